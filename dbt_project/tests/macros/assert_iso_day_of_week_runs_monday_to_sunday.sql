-- iso_day_of_week (dispatched: isodow, Spark dayofweek_iso): 2026-11-23 is a Monday (1), 2026-11-29 a
-- Sunday (7), 2024-02-29 a Thursday (4).
with cases as (
    select {{ date_literal('2026-11-23') }} as day_date, 1 as expected_day
    union all select {{ date_literal('2026-11-29') }}, 7
    union all select {{ date_literal('2024-02-29') }}, 4
),

final as (
    select
        day_date,
        {{ iso_day_of_week('day_date') }} as actual_day,
        expected_day
    from cases
)

select * from final
where actual_day is null or actual_day <> expected_day
