-- One row per creation month and funnel stage: how many of the opportunities created in the month reached
-- each stage, and the conversion from the previous stage and from the first stage (domain.md §2 "reached
-- stage s", "stage conversion", "overall conversion"), for the cohort created in that month.
-- int_sales_funnel__by_cohort's 'creation_month' cohorts, where the stage logic lives.
with funnel as (
    select *
    from {{ ref('int_sales_funnel__by_cohort') }}
    where cohort = 'creation_month'
),

final as (
    select
        month_start,
        stage,
        cast(stage_order as {{ dbt.type_int() }})              as stage_order,
        cast(opportunities_reached as {{ dbt.type_bigint() }}) as opportunities_reached,
        stage_conversion_rate,
        overall_conversion_rate
    from funnel
)

select * from final
