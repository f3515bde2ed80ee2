-- 悟空CRM's invoices (wk_crm_invoice) as the contract's invoices. Only an approved invoice (check_status 1 or 10)
-- counts; the others are kept flagged deleted. Issued on the actual invoice date, else the requested one.
with invoices as (
    select * from {{ source('wukong', 'wk_crm_invoice') }}
),

final as (
    select
        cast(invoice_id as bigint)                               as invoice_id,
        cast(contract_id as bigint)                              as contract_id,
        cast(invoice_money as decimal(18,2))                     as amount,
        cast(coalesce(real_invoice_date, invoice_date) as date)  as issued_date,
        not {{ wukong_is_approved('check_status') }}             as is_deleted,
        {{ wukong_changed_at() }}                                as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                    as _load_id,
        cast(_loaded_at as timestamp)                            as _loaded_at
    from invoices
)

select * from final
