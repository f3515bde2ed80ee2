-- Salesforce's sales cloud holds no satisfaction surveys: the contract's satisfaction_surveys, empty, with its
-- columns and types.
with final as (
    select
        cast(null as bigint)                            as survey_id,
        cast(null as bigint)                            as customer_id,
        cast(null as bigint)                            as product_id,
        cast(null as bigint)                            as user_id,
        cast(null as bigint)                            as score,
        cast(null as timestamp)                         as surveyed_at,
        cast(null as timestamp)                         as updated_at,
        cast(null as {{ dbt.type_string() }})           as _load_id,
        cast(null as timestamp)                         as _loaded_at
)

select * from final
where 1 = 0
