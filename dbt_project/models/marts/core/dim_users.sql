-- One row per user (employee / sales rep), with their department's name.
with users as (
    select * from {{ ref('stg_crm__users') }}
),

departments as (
    select * from {{ ref('stg_crm__departments') }}
),

final as (
    select
        users.user_id,
        {{ source_id_column('user', 'users.user_id', 'user_ids') }} as user_source_id,
        users.user_name,
        users.email,
        users.department_id,
        departments.department_name,
        users.region,
        users.manager_user_id,
        users.is_active,
        users.hired_date
    from users
    left join departments
        on users.department_id = departments.department_id
    {{ source_id_join('user', 'users.user_id', 'user_ids') }}
)

select * from final
