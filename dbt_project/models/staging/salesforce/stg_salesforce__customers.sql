-- Salesforce's accounts (account) as the contract's customers: city, province and region are the billing address's
-- city, state and country; level = rating; source = account_source. Every account has an owner: Salesforce has no
-- public pool. A deleted account (is_deleted or _fivetran_deleted) is kept flagged deleted: it counts nowhere.
with accounts as (
    select * from {{ source('salesforce', 'account') }}
),

final as (
    select
        {{ source_id_key('id') }}                                                as customer_id,
        cast(name as {{ dbt.type_string() }})                                    as name,
        cast(nullif(trim(industry), '') as {{ dbt.type_string() }})              as industry,
        cast(nullif(trim(billing_city), '') as {{ dbt.type_string() }})          as city,
        cast(nullif(trim(billing_state), '') as {{ dbt.type_string() }})         as province,
        cast(nullif(trim(billing_country), '') as {{ dbt.type_string() }})       as region,
        cast(nullif(trim(rating), '') as {{ dbt.type_string() }})                as level,
        cast(nullif(trim(account_source), '') as {{ dbt.type_string() }})        as source,
        {{ source_id_key('owner_id') }}                                          as owner_user_id,
        cast(created_date as timestamp)                                          as created_at,
        {{ salesforce_is_deleted() }}                                            as is_deleted,
        cast({{ salesforce_synced_at() }} as timestamp)                                      as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                                as _load_id,
        cast(_loaded_at as timestamp)                                            as _loaded_at
    from accounts
)

select * from final
