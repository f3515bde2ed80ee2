-- One row per payment received, latest version, in its contract's currency; deleted payments kept and flagged.
-- Converting needs the contract's currency: fct_payments does it.
with source as (
    select * from {{ crm_source('payments') }}
),

final as (
    select
        cast(payment_id as bigint)                           as payment_id,
        cast(contract_id as bigint)                          as contract_id,
        cast(plan_id as bigint)                              as plan_id,
        cast(amount as decimal(18,2))                        as amount_original,
        cast(paid_date as date)                              as paid_date,
        cast(lower(trim(method)) as {{ dbt.type_string() }}) as method,
        coalesce(cast(is_deleted as boolean), false)         as is_deleted,
        cast(updated_at as timestamp)                        as updated_at,
        cast(_loaded_at as timestamp)                        as loaded_at
    from source
)

select * from final
