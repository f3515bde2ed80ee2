-- One row per cohort and funnel stage (the open and won stages of the stage catalogue, in stage_order): how many
-- of the cohort's opportunities reached the stage, their amount, and the conversion from the previous stage and
-- from the first stage (domain.md §2 "reached stage s", "stage conversion", "overall conversion").
-- Two kinds of cohort, so that both funnels come from this one step:
--   cohort 'all'             every not-deleted opportunity (month_start null): mart_sales_funnel
--   cohort 'creation_month'  the opportunities created in month_start: mart_sales_funnel_monthly
-- Every cohort has every funnel stage, 0 where nobody reached it; the 'all' cohort exists with no opportunities.
-- A table, not a view like most intermediates: both funnel marts read it.
{{ config(materialized='table') }}

with funnel_stages as (  -- the open and won stages; lost is not a funnel stage
    select
        stage,
        stage_order
    from {{ ref('dim_stages') }}
    where is_funnel_stage
),

opportunities as (
    select
        opportunity_id,
        amount,
        {{ to_month_start('created_date') }} as month_start
    from {{ ref('fct_opportunities') }}
),

stages_reached as (
    select
        stages_reached.stage,
        opportunities.opportunity_id,
        opportunities.amount,
        opportunities.month_start
    from {{ ref('int_opportunities__stages_reached') }} as stages_reached
    inner join opportunities
        on stages_reached.opportunity_id = opportunities.opportunity_id
),

cohorts as (
    select
        'all'                  as cohort,
        cast(null as date)     as month_start

    union all

    select distinct
        'creation_month'       as cohort,
        month_start
    from opportunities
    where month_start is not null
),

reached_by_cohort_and_stage as (
    select
        'all'                          as cohort,
        cast(null as date)             as month_start,
        stage,
        count(distinct opportunity_id) as opportunities_reached,
        sum(amount)                    as amount_reached
    from stages_reached
    group by stage

    union all

    select
        'creation_month'               as cohort,
        month_start,
        stage,
        count(distinct opportunity_id) as opportunities_reached,
        sum(amount)                    as amount_reached
    from stages_reached
    where month_start is not null
    group by month_start, stage
),

funnel as (  -- every cohort has every stage, 0 where nobody reached it
    select
        cohorts.cohort,
        cohorts.month_start,
        funnel_stages.stage,
        funnel_stages.stage_order,
        coalesce(reached_by_cohort_and_stage.opportunities_reached, 0) as opportunities_reached,
        cast(coalesce(reached_by_cohort_and_stage.amount_reached, 0) as decimal(18,2)) as amount_reached
    from cohorts
    cross join funnel_stages
    left join reached_by_cohort_and_stage
        on cohorts.cohort = reached_by_cohort_and_stage.cohort
       and (cohorts.month_start = reached_by_cohort_and_stage.month_start
            or (reached_by_cohort_and_stage.month_start is null and cohorts.month_start is null))
       and funnel_stages.stage = reached_by_cohort_and_stage.stage
),

funnel_with_previous as (
    select
        cohort,
        month_start,
        stage,
        stage_order,
        opportunities_reached,
        amount_reached,
        lag(opportunities_reached) over (
            partition by cohort, month_start order by stage_order, stage
        ) as previous_stage_reached,
        first_value(opportunities_reached) over (
            partition by cohort, month_start order by stage_order, stage
            rows between unbounded preceding and unbounded following
        ) as first_stage_reached
    from funnel
),

final as (
    select
        cohort,
        month_start,
        stage,
        stage_order,
        opportunities_reached,
        amount_reached,
        {{ ratio('opportunities_reached', 'previous_stage_reached') }} as stage_conversion_rate,
        {{ ratio('opportunities_reached', 'first_stage_reached') }}    as overall_conversion_rate
    from funnel_with_previous
)

select * from final
