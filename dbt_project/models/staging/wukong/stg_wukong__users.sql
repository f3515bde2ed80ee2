-- 悟空CRM's users (wk_admin_user) as the contract's users. A deleted user (is_del 1) or one not active (status other
-- than 1) is not active. 悟空CRM keeps no change time for users: updated_at is when the extract read the row.
with users as (
    select * from {{ source('wukong', 'wk_admin_user') }}
),

final as (
    select
        cast(user_id as bigint)                                   as user_id,
        cast(realname as {{ dbt.type_string() }})                     as name,
        cast(email as {{ dbt.type_string() }})                        as email,
        cast(dept_id as bigint)                                   as department_id,
        {{ zero_as_null('parent_id') }}                           as manager_user_id,
        cast(null as {{ dbt.type_string() }})                         as region,
        {{ local_to_utc('create_time') }}                         as hired_at,
        coalesce(status = 1 and coalesce(is_del, 0) <> 1, false)  as is_active,
        cast(_loaded_at as timestamp)                             as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                     as _load_id,
        cast(_loaded_at as timestamp)                             as _loaded_at
    from users
)

select * from final
