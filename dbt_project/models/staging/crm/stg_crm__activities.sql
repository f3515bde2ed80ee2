-- One row per activity (follow-up), latest version; deleted activities kept and flagged.
with source as (
    select * from {{ crm_source('activities') }}
),

final as (
    select
        cast(activity_id as bigint)                                 as activity_id,
        cast(customer_id as bigint)                                 as customer_id,
        cast(opportunity_id as bigint)                              as opportunity_id,
        cast(user_id as bigint)                                     as user_id,
        cast(lower(trim(activity_type)) as {{ dbt.type_string() }}) as activity_type,
        cast(occurred_at as timestamp)                              as occurred_at,
        {{ to_reporting_date('occurred_at') }}                      as occurred_date,
        coalesce(cast(is_deleted as boolean), false)                as is_deleted,
        cast(updated_at as timestamp)                               as updated_at,
        cast(_loaded_at as timestamp)                               as loaded_at
    from source
)

select * from final
