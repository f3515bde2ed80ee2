-- mart_pipeline_movement_monthly: each month's opening equals the previous month's closing, in count and
-- amount (domain.md §2 "Pipeline movement"). Returns the months where it does not.
with movement as (
    select
        month_start,
        opening_opportunities,
        opening_amount,
        lag(closing_opportunities) over (order by month_start) as previous_closing_opportunities,
        lag(closing_amount) over (order by month_start)        as previous_closing_amount,
        row_number() over (order by month_start)               as month_number
    from {{ ref('mart_pipeline_movement_monthly') }}
),

final as (
    select *
    from movement
    where month_number > 1
      and (opening_opportunities <> previous_closing_opportunities or opening_amount <> previous_closing_amount)
)

select * from final
