-- Salesforce's contacts (contact) as the contract's contacts; customer = the contact's account. A deleted contact is
-- kept flagged deleted.
with contacts as (
    select * from {{ source('salesforce', 'contact') }}
),

final as (
    select
        {{ source_id_key('id') }}                                  as contact_id,
        {{ source_id_key('account_id') }}                          as customer_id,
        cast(name as {{ dbt.type_string() }})                      as name,
        cast(title as {{ dbt.type_string() }})                     as title,
        cast(email as {{ dbt.type_string() }})                     as email,
        cast(nullif(trim(phone), '') as {{ dbt.type_string() }})   as phone,
        cast(created_date as timestamp)                            as created_at,
        {{ salesforce_is_deleted() }}                              as is_deleted,
        cast({{ salesforce_synced_at() }} as timestamp)                        as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                  as _load_id,
        cast(_loaded_at as timestamp)                              as _loaded_at
    from contacts
)

select * from final
