-- Salesforce's sales cloud holds no payment plans: the contract's payment_plans, empty, with its columns and types.
with final as (
    select
        cast(null as bigint)                            as plan_id,
        cast(null as bigint)                            as contract_id,
        cast(null as bigint)                            as installment_no,
        cast(null as date)                              as due_date,
        cast(null as decimal(18,2))                     as amount,
        cast(null as timestamp)                         as updated_at,
        cast(null as {{ dbt.type_string() }})           as _load_id,
        cast(null as timestamp)                         as _loaded_at
)

select * from final
where 1 = 0
