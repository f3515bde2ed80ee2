-- One row per funnel stage (the open and won stages of the stage catalogue, in stage_order): how many
-- opportunities reached it and their amount, and the conversion from the previous stage and from the
-- first stage (domain.md §2, "reached stage s", "stage conversion", "overall conversion").
with funnel_stages as (
    select
        stage,
        stage_order
    from {{ ref('dim_stages') }}
    where is_funnel_stage
),

opportunities as (
    select
        opportunity_id,
        amount
    from {{ ref('fct_opportunities') }}
),

stages_reached as (
    select
        stages_reached.stage,
        opportunities.opportunity_id,
        opportunities.amount
    from {{ ref('int_opportunities__stages_reached') }} as stages_reached
    inner join opportunities
        on opportunities.opportunity_id = stages_reached.opportunity_id
),

reached_by_stage as (
    select
        stage,
        count(distinct opportunity_id) as opportunities_reached,
        sum(amount)                    as amount_reached
    from stages_reached
    group by stage
),

funnel as (
    select
        funnel_stages.stage,
        funnel_stages.stage_order,
        coalesce(reached_by_stage.opportunities_reached, 0) as opportunities_reached,
        coalesce(reached_by_stage.amount_reached, 0)        as amount_reached
    from funnel_stages
    left join reached_by_stage
        on reached_by_stage.stage = funnel_stages.stage
),

funnel_with_previous as (
    select
        stage,
        stage_order,
        opportunities_reached,
        amount_reached,
        lag(opportunities_reached) over (order by stage_order, stage) as previous_stage_reached,
        first_value(opportunities_reached) over (
            order by stage_order, stage
            rows between unbounded preceding and unbounded following
        ) as first_stage_reached
    from funnel
),

final as (
    select
        stage,
        cast(stage_order as {{ dbt.type_int() }})                      as stage_order,
        cast(opportunities_reached as {{ dbt.type_bigint() }})         as opportunities_reached,
        {{ to_money('amount_reached') }}                               as amount_reached,
        {{ ratio('opportunities_reached', 'previous_stage_reached') }} as stage_conversion_rate,
        {{ ratio('opportunities_reached', 'first_stage_reached') }}    as overall_conversion_rate
    from funnel_with_previous
)

select * from final
