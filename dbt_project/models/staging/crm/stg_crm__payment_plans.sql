-- One row per payment plan (installment due), latest version, in its contract's currency.
-- Converting needs the contract's currency: fct_payment_plans does it.
with source as (
    select * from {{ crm_source('payment_plans') }}
),

final as (
    select
        cast(plan_id as bigint)         as plan_id,
        cast(contract_id as bigint)     as contract_id,
        cast(installment_no as bigint)  as installment_no,
        cast(due_date as date)          as due_date,
        cast(amount as decimal(18,2))   as amount_original,
        cast(updated_at as timestamp)   as updated_at,
        cast(_loaded_at as timestamp)   as loaded_at
    from source
)

select * from final
