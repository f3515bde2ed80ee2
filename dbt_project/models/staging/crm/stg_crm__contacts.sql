-- One row per contact (a person at a customer), latest version; deleted contacts kept and flagged.
with source as (
    select * from {{ crm_source('contacts') }}
),

final as (
    select
        cast(contact_id as bigint)                           as contact_id,
        cast(customer_id as bigint)                          as customer_id,
        cast(trim(name) as {{ dbt.type_string() }})          as contact_name,
        cast(trim(title) as {{ dbt.type_string() }})         as title,
        cast(lower(trim(email)) as {{ dbt.type_string() }})  as email,
        cast(trim(phone) as {{ dbt.type_string() }})         as phone,
        cast(created_at as timestamp)                        as created_at,
        {{ to_reporting_date('created_at') }}                as created_date,
        coalesce(cast(is_deleted as boolean), false)         as is_deleted,
        cast(updated_at as timestamp)                        as updated_at,
        cast(_loaded_at as timestamp)                        as loaded_at
    from source
)

select * from final
