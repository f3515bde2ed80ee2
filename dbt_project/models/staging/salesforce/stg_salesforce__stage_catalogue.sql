-- The stage catalogue from Salesforce's opportunity stage picklist (opportunity_stage, active values), for dim_stages
-- and the funnel (docs/sources.md): stage = api_name (the value opportunities store in stage_name), lower-cased and
-- trimmed as staging writes stages; order = sort_order; win probability = default_probability / 100; is_closed and
-- is_won as Salesforce flags them; label = master_label. A closed stage that is not won is lost: like the seed's lost,
-- it has no funnel position (stage_order null). The seed stage_catalogue stays an override: a seed row of the same
-- stage name replaces the stage's win probability and label. Same columns as the seed.
with stages as (
    select
        lower(trim(api_name))                                     as stage,
        case when coalesce(is_closed, false) and not coalesce(is_won, false) then null
            else cast(sort_order as integer) end                  as stage_order,
        cast(default_probability as decimal(18,8)) * 0.01         as win_probability,
        coalesce(is_closed, false)                                as is_closed,
        coalesce(is_won, false)                                   as is_won,
        coalesce(is_closed, false) and not coalesce(is_won, false) as is_lost,
        trim(master_label)                                        as label
    from {{ source('salesforce', 'opportunity_stage') }}
    where coalesce(is_active, false)
      and not {{ salesforce_is_deleted(has_is_deleted=false) }}
),

overrides as (
    select * from {{ ref('stage_catalogue') }}
),

final as (
    select
        cast(stages.stage as {{ dbt.type_string() }})                                       as stage,
        cast(stages.stage_order as integer)                                                 as stage_order,
        cast(coalesce(overrides.win_probability, stages.win_probability) as decimal(5,4))   as win_probability,
        stages.is_closed,
        stages.is_won,
        stages.is_lost,
        cast(coalesce(overrides.label_zh, stages.label) as {{ dbt.type_string() }})         as label_zh
    from stages
    left join overrides
        on lower(trim(overrides.stage)) = stages.stage
)

select * from final
