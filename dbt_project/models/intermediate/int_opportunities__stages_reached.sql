-- One row per opportunity and funnel stage it reached (domain.md §2, "reached stage s").
-- The stages an opportunity has been at are the to_stage values of its history plus its current stage.
-- It reached every funnel stage (the open and won stages of the catalogue) up to the furthest one it has
-- been at: a skipped stage counts, going back takes nothing away. Every opportunity reached the first
-- stage; a won opportunity reached every stage up to won; lost is not a funnel stage, so a lost
-- opportunity reached the stages up to the furthest open stage it had been at. Stages missing from the
-- catalogue are ignored.
-- Stage names are matched as staging writes them (lower-cased, trimmed), as dim_stages does with the seed.
-- A table, not a view like most intermediates: the funnel step and three data tests read it, and as a
-- view each of them recomputed every opportunity's stages (docs/benchmarks.md has what it cost at 1M).
{{ config(materialized='table') }}

with catalogue as (
    select
        lower(trim(stage))              as stage,
        stage_order,
        coalesce(is_closed, false)      as is_closed,
        coalesce(is_won, false)         as is_won
    from {{ stage_catalogue() }}
),

funnel_stages as (  -- the open and won stages; lost is not a funnel stage
    select
        stage,
        stage_order,
        is_won
    from catalogue
    where (not is_closed or is_won)
      and stage_order is not null
),

first_funnel_stage_order as (
    select min(stage_order) as stage_order
    from funnel_stages
),

won_stage_order as (
    select max(stage_order) as stage_order
    from funnel_stages
    where is_won
),

opportunities as (
    select
        opportunity_id,
        stage,
        status
    from {{ ref('stg_crm__opportunities') }}
    where not is_deleted
),

stages_been_at as (
    select
        opportunity_id,
        stage
    from opportunities

    union all

    select
        history.opportunity_id,
        history.to_stage as stage
    from {{ ref('int_opportunity_stage_changes__unioned') }} as history
    inner join opportunities
        on history.opportunity_id = opportunities.opportunity_id
),

furthest_stage_been_at as (
    select
        stages_been_at.opportunity_id,
        max(funnel_stages.stage_order) as stage_order
    from stages_been_at
    inner join funnel_stages
        on stages_been_at.stage = funnel_stages.stage
    group by stages_been_at.opportunity_id
),

furthest_stage_reached as (
    select
        opportunities.opportunity_id,
        coalesce(
            case when opportunities.status = 'won' then won_stage_order.stage_order end,
            furthest_stage_been_at.stage_order,
            first_funnel_stage_order.stage_order
        ) as furthest_stage_order
    from opportunities
    cross join first_funnel_stage_order
    cross join won_stage_order
    left join furthest_stage_been_at
        on opportunities.opportunity_id = furthest_stage_been_at.opportunity_id
),

final as (
    select
        furthest_stage_reached.opportunity_id,
        funnel_stages.stage,
        funnel_stages.stage_order,
        funnel_stages.stage_order = furthest_stage_reached.furthest_stage_order as is_furthest_stage
    from furthest_stage_reached
    inner join funnel_stages
        on furthest_stage_reached.furthest_stage_order >= funnel_stages.stage_order
)

select * from final
