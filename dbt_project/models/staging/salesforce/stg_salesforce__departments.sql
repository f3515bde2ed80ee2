-- Salesforce's roles (user_role) as the contract's departments: the role hierarchy is the sales organisation's
-- teams. A role the sync saw deleted is left out (the contract's departments have no deleted flag).
-- updated_at is when the sync tool last wrote the row (Salesforce's own change time is not synced for roles).
with roles as (
    select * from {{ source('salesforce', 'user_role') }}
),

final as (
    select
        {{ source_id_key('id') }}                         as department_id,
        cast(name as {{ dbt.type_string() }})             as name,
        {{ source_id_key('parent_role_id') }}             as parent_department_id,
        cast({{ salesforce_synced_at() }} as timestamp)               as updated_at,
        cast(_load_id as {{ dbt.type_string() }})         as _load_id,
        cast(_loaded_at as timestamp)                     as _loaded_at
    from roles
    where not {{ salesforce_is_deleted(has_is_deleted=false) }}
)

select * from final
