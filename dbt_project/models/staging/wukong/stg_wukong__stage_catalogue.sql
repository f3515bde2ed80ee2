-- The stage catalogue from 悟空CRM's stage group (docs/sources.md): the statuses of the group in order_num order, their
-- win probability rate / 100 (rate is text: '20' is 20%), then won (100%) and lost (0%, no funnel position). The
-- group is the one named by CRM_WUKONG_STAGE_GROUP, else the only enabled one (more than one: the pre-hook stops
-- the run naming them). The seed stage_catalogue stays an override: a seed row of the same (lower-cased) stage name
-- replaces the stage's win probability and Chinese label. Same columns as the seed; dim_stages reads it.
{{ config(pre_hook="{{ check_wukong_stage_group() }}") }}

with stage_groups as (
    select * from {{ source('wukong', 'wk_crm_business_type') }}
),

chosen_group as (
    select type_id
    from stage_groups
    where case
        when {{ wukong_stage_group() }} = '' then coalesce(status = 1, false)
        else trim(name) = {{ wukong_stage_group() }}
    end
),

group_stages as (
    select
        lower(trim(statuses.name))                                    as stage,
        cast(statuses.order_num as integer)                           as stage_order,
        cast(replace(trim(statuses.rate), '%', '') as decimal(9,4)) * 0.01 as win_probability,
        trim(statuses.name)                                           as label_zh
    from {{ source('wukong', 'wk_crm_business_status') }} as statuses
    inner join chosen_group
        on statuses.type_id = chosen_group.type_id
),

stages as (
    select
        stage,
        stage_order,
        win_probability,
        false as is_closed,
        false as is_won,
        false as is_lost,
        label_zh
    from group_stages

    union all

    select
        'won'                                                           as stage,
        (select coalesce(max(group_stages.stage_order), 0) + 1 from group_stages) as stage_order,
        1                                                               as win_probability,
        true                                                            as is_closed,
        true                                                            as is_won,
        false                                                           as is_lost,
        '赢单'                                                          as label_zh

    union all

    select
        'lost'                                                          as stage,
        null                                                            as stage_order,
        0                                                               as win_probability,
        true                                                            as is_closed,
        false                                                           as is_won,
        true                                                            as is_lost,
        '输单'                                                          as label_zh
),

overrides as (
    select * from {{ ref('stage_catalogue') }}
),

final as (
    select
        cast(stages.stage as {{ dbt.type_string() }})                                                  as stage,
        cast(stages.stage_order as integer)                                                      as stage_order,
        cast(coalesce(overrides.win_probability, stages.win_probability) as decimal(5,4))       as win_probability,
        stages.is_closed,
        stages.is_won,
        stages.is_lost,
        cast(coalesce(overrides.label_zh, stages.label_zh) as {{ dbt.type_string() }})                 as label_zh
    from stages
    left join overrides
        on lower(trim(overrides.stage)) = stages.stage
)

select * from final
