-- One row per invoice issued, latest version, in its contract's currency; deleted invoices kept and flagged.
with source as (
    select * from {{ crm_source('invoices') }}
),

final as (
    select
        cast(invoice_id as bigint)                   as invoice_id,
        cast(contract_id as bigint)                  as contract_id,
        cast(amount as decimal(18,2))                as amount_original,
        cast(issued_date as date)                    as issued_date,
        coalesce(cast(is_deleted as boolean), false) as is_deleted,
        cast(updated_at as timestamp)                as updated_at,
        cast(_loaded_at as timestamp)                as loaded_at
    from source
)

select * from final
