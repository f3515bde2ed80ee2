-- Salesforce's sales cloud holds no payments received: the contract's payments, empty, with its columns and types.
with final as (
    select
        cast(null as bigint)                            as payment_id,
        cast(null as bigint)                            as contract_id,
        cast(null as bigint)                            as plan_id,
        cast(null as decimal(18,2))                     as amount,
        cast(null as date)                              as paid_date,
        cast(null as {{ dbt.type_string() }})           as method,
        cast(null as boolean)                           as is_deleted,
        cast(null as timestamp)                         as updated_at,
        cast(null as {{ dbt.type_string() }})           as _load_id,
        cast(null as timestamp)                         as _loaded_at
)

select * from final
where 1 = 0
