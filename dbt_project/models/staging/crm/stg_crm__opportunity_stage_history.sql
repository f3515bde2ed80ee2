-- One row per stage change of an opportunity, latest version.
with source as (
    select * from {{ crm_source('opportunity_stage_history') }}
),

final as (
    select
        cast(history_id as bigint)                              as history_id,
        cast(opportunity_id as bigint)                          as opportunity_id,
        cast(lower(trim(from_stage)) as {{ dbt.type_string() }}) as from_stage,
        cast(lower(trim(to_stage)) as {{ dbt.type_string() }})   as to_stage,
        cast(changed_at as timestamp)                           as changed_at,
        {{ to_reporting_date('changed_at') }}                   as changed_date,
        cast(changed_by_user_id as bigint)                      as changed_by_user_id,
        cast(updated_at as timestamp)                           as updated_at,
        cast(_loaded_at as timestamp)                           as loaded_at
    from source
)

select * from final
