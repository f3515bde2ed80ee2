-- One row per customer (account), latest version; deleted customers kept and flagged.
with source as (
    select * from {{ crm_source('customers') }}
),

final as (
    select
        cast(customer_id as bigint)                          as customer_id,
        cast(trim(name) as {{ dbt.type_string() }})          as customer_name,
        cast(trim(industry) as {{ dbt.type_string() }})      as industry,
        cast(trim(city) as {{ dbt.type_string() }})          as city,
        cast(trim(province) as {{ dbt.type_string() }})      as province,
        cast(trim(region) as {{ dbt.type_string() }})        as region,
        cast(upper(trim(level)) as {{ dbt.type_string() }})  as level,
        cast(lower(trim(source)) as {{ dbt.type_string() }}) as source,
        cast(owner_user_id as bigint)                        as owner_user_id,
        cast(created_at as timestamp)                        as created_at,
        {{ to_reporting_date('created_at') }}                as created_date,
        coalesce(cast(is_deleted as boolean), false)         as is_deleted,
        cast(updated_at as timestamp)                        as updated_at,
        cast(_loaded_at as timestamp)                        as loaded_at
    from source
)

select * from final
