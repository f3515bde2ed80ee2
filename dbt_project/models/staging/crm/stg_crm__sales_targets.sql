-- One row per rep and target month (monthly quota), latest version.
with source as (
    select * from {{ crm_source('sales_targets') }}
),

final as (
    select
        cast(user_id as bigint)                       as user_id,
        cast(target_month as date)                    as target_month,
        cast(contract_amount_target as decimal(18,2)) as contract_amount_target,
        cast(payment_amount_target as decimal(18,2))  as payment_amount_target,
        cast(new_customer_target as bigint)           as new_customer_target,
        cast(updated_at as timestamp)                 as updated_at,
        cast(_loaded_at as timestamp)                 as loaded_at
    from source
)

select * from final
