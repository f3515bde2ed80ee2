-- One row per funnel stage (the open and won stages of the stage catalogue, in stage_order): how many
-- opportunities reached it and their amount, and the conversion from the previous stage and from the
-- first stage (domain.md §2, "reached stage s", "stage conversion", "overall conversion").
-- The funnel of every opportunity: int_sales_funnel__by_cohort's 'all' cohort, where the stage logic lives.
with funnel as (
    select *
    from {{ ref('int_sales_funnel__by_cohort') }}
    where cohort = 'all'
),

final as (
    select
        stage,
        cast(stage_order as {{ dbt.type_int() }})              as stage_order,
        cast(opportunities_reached as {{ dbt.type_bigint() }}) as opportunities_reached,
        {{ to_money('amount_reached') }}                       as amount_reached,
        stage_conversion_rate,
        overall_conversion_rate
    from funnel
)

select * from final
