-- 悟空CRM's departments (wk_admin_dept) as the contract's departments. 悟空CRM keeps no change time for them: updated_at
-- is when the extract read the row (the table is read whole every run).
with departments as (
    select * from {{ source('wukong', 'wk_admin_dept') }}
),

final as (
    select
        cast(dept_id as bigint)              as department_id,
        cast(name as {{ dbt.type_string() }})    as name,
        {{ zero_as_null('pid') }}            as parent_department_id,
        cast(_loaded_at as timestamp)        as updated_at,
        cast(_load_id as {{ dbt.type_string() }}) as _load_id,
        cast(_loaded_at as timestamp)        as _loaded_at
    from departments
)

select * from final
