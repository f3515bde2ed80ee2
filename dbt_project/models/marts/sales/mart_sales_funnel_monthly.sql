-- One row per creation month and funnel stage: how many of the opportunities created in the month reached
-- each stage, and the conversion from the previous stage and from the first stage (domain.md §2 "reached
-- stage s", "stage conversion", "overall conversion"), for the cohort created in that month.
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
        {{ to_month_start('created_date') }} as month_start
    from {{ ref('fct_opportunities') }}
    where created_date is not null
),

creation_months as (
    select distinct month_start
    from opportunities
),

reached_by_month_and_stage as (
    select
        opportunities.month_start,
        stages_reached.stage,
        count(distinct opportunities.opportunity_id) as opportunities_reached
    from {{ ref('int_opportunities__stages_reached') }} as stages_reached
    inner join opportunities
        on opportunities.opportunity_id = stages_reached.opportunity_id
    group by opportunities.month_start, stages_reached.stage
),

funnel as (  -- every creation month has every stage, 0 where nobody reached it
    select
        creation_months.month_start,
        funnel_stages.stage,
        funnel_stages.stage_order,
        coalesce(reached_by_month_and_stage.opportunities_reached, 0) as opportunities_reached
    from creation_months
    cross join funnel_stages
    left join reached_by_month_and_stage
        on reached_by_month_and_stage.month_start = creation_months.month_start
       and reached_by_month_and_stage.stage = funnel_stages.stage
),

funnel_with_previous as (
    select
        month_start,
        stage,
        stage_order,
        opportunities_reached,
        lag(opportunities_reached) over (
            partition by month_start order by stage_order, stage
        ) as previous_stage_reached,
        first_value(opportunities_reached) over (
            partition by month_start order by stage_order, stage
            rows between unbounded preceding and unbounded following
        ) as first_stage_reached
    from funnel
),

final as (
    select
        month_start,
        stage,
        cast(stage_order as {{ dbt.type_int() }})                      as stage_order,
        cast(opportunities_reached as {{ dbt.type_bigint() }})         as opportunities_reached,
        {{ ratio('opportunities_reached', 'previous_stage_reached') }} as stage_conversion_rate,
        {{ ratio('opportunities_reached', 'first_stage_reached') }}    as overall_conversion_rate
    from funnel_with_previous
)

select * from final
