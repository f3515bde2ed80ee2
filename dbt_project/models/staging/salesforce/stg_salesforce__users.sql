-- Salesforce's users (user) as the contract's users: department = the user's role, region = division, hired_at =
-- when the user was created. Salesforce never deletes a user (it deactivates them); a user the sync saw deleted is
-- kept and not active, so the records they own keep their owner.
with users as (
    select * from {{ source('salesforce', 'user') }}
),

final as (
    select
        {{ source_id_key('id') }}                                          as user_id,
        cast(name as {{ dbt.type_string() }})                              as name,
        cast(email as {{ dbt.type_string() }})                             as email,
        {{ source_id_key('user_role_id') }}                                as department_id,
        {{ source_id_key('manager_id') }}                                  as manager_user_id,
        cast(nullif(trim(division), '') as {{ dbt.type_string() }})        as region,
        cast(created_date as timestamp)                                    as hired_at,
        coalesce(is_active, false)
            and not {{ salesforce_is_deleted(has_is_deleted=false) }}      as is_active,
        cast({{ salesforce_synced_at() }} as timestamp)                                as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                          as _load_id,
        cast(_loaded_at as timestamp)                                      as _loaded_at
    from users
)

select * from final
