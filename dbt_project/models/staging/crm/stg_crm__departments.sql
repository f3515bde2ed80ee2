-- One row per department (sales team), latest version.
with source as (
    select * from {{ crm_source('departments') }}
),

final as (
    select
        cast(department_id as bigint)                    as department_id,
        cast(trim(name) as {{ dbt.type_string() }})      as department_name,
        cast(parent_department_id as bigint)             as parent_department_id,
        cast(updated_at as timestamp)                    as updated_at,
        cast(_loaded_at as timestamp)                    as loaded_at
    from source
)

select * from final
