-- 悟空CRM's contacts (wk_crm_contacts) as the contract's contacts: title is the position (post), phone the mobile
-- number, else the landline. 悟空CRM deletes contacts outright: none is flagged deleted.
with contacts as (
    select * from {{ source('wukong', 'wk_crm_contacts') }}
),

final as (
    select
        cast(contacts_id as bigint)                                           as contact_id,
        cast(customer_id as bigint)                                           as customer_id,
        cast(name as {{ dbt.type_string() }})                                     as name,
        cast(post as {{ dbt.type_string() }})                                     as title,
        cast(email as {{ dbt.type_string() }})                                    as email,
        cast(coalesce(nullif(trim(mobile), ''), nullif(trim(telephone), '')) as {{ dbt.type_string() }}) as phone,
        {{ local_to_utc('create_time') }}                                     as created_at,
        false                                                                 as is_deleted,
        {{ wukong_changed_at() }}                                             as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                                 as _load_id,
        cast(_loaded_at as timestamp)                                         as _loaded_at
    from contacts
)

select * from final
