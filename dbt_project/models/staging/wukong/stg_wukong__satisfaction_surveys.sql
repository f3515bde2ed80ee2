-- 悟空CRM's customer visits (wk_crm_return_visit) as the contract's satisfaction_surveys: the score is the visit's
-- satisfaction custom field (satisficing) as a number, 很满意 5, 满意 4, 一般 3, 不满意 2, 很不满意 1; any other answer,
-- or none, has no score (and so counts in no mean). A visit names a contract, not a product: product_id is null.
with visits as (
    select * from {{ source('wukong', 'wk_crm_return_visit') }}
),

satisfaction_answers as (
    select * from (
        {{ wukong_latest_field_values(source('wukong', 'wk_crm_return_visit_data')) }}
    ) as field_values
    where field_name = 'satisficing'
),

final as (
    select
        cast(visits.visit_id as bigint)                           as survey_id,
        cast(visits.customer_id as bigint)                        as customer_id,
        cast(null as bigint)                                      as product_id,
        cast(visits.owner_user_id as bigint)                      as user_id,
        cast(case satisfaction_answers.field_value
            when '很满意' then 5
            when '满意' then 4
            when '一般' then 3
            when '不满意' then 2
            when '很不满意' then 1
        end as bigint)                                            as score,
        {{ local_to_utc('visits.visit_time') }}                   as surveyed_at,
        greatest(
            {{ wukong_changed_at('visits') }},
            {{ local_to_utc('satisfaction_answers.create_time') }}
        )                                                         as updated_at,
        cast(visits._load_id as {{ dbt.type_string() }})              as _load_id,
        greatest(visits._loaded_at, satisfaction_answers._loaded_at) as _loaded_at
    from visits
    left join satisfaction_answers
        on visits.batch_id = satisfaction_answers.batch_id
)

select * from final
