-- One row per user (employee / sales rep), latest version.
with source as (
    select * from {{ crm_source('users') }}
),

final as (
    select
        cast(user_id as bigint)                              as user_id,
        cast(trim(name) as {{ dbt.type_string() }})          as user_name,
        cast(lower(trim(email)) as {{ dbt.type_string() }})  as email,
        cast(department_id as bigint)                        as department_id,
        cast(manager_user_id as bigint)                      as manager_user_id,
        cast(trim(region) as {{ dbt.type_string() }})        as region,
        cast(hired_at as timestamp)                          as hired_at,
        {{ to_reporting_date('hired_at') }}                  as hired_date,
        cast(is_active as boolean)                           as is_active,
        cast(updated_at as timestamp)                        as updated_at,
        cast(_loaded_at as timestamp)                        as loaded_at
    from source
)

select * from final
