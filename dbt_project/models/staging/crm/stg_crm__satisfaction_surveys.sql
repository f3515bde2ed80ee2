-- One row per satisfaction survey response, latest version.
with source as (
    select * from {{ crm_source('satisfaction_surveys') }}
),

final as (
    select
        cast(survey_id as bigint)              as survey_id,
        cast(customer_id as bigint)            as customer_id,
        cast(product_id as bigint)             as product_id,
        cast(user_id as bigint)                as user_id,
        cast(score as bigint)                  as score,
        cast(surveyed_at as timestamp)         as surveyed_at,
        {{ to_reporting_date('surveyed_at') }} as surveyed_date,
        cast(updated_at as timestamp)          as updated_at,
        cast(_loaded_at as timestamp)          as loaded_at
    from source
)

select * from final
