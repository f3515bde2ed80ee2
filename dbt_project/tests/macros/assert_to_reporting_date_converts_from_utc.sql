-- to_reporting_date (dispatched: AT TIME ZONE, Spark from_utc_timestamp): the calendar date of a UTC timestamp
-- in a zone. 2026-03-01 20:30 UTC is already 2 March in Shanghai (UTC+8); 2026-03-02 03:00 UTC is still
-- 1 March in New York (UTC-5); UTC itself is a plain cast.
with cases as (
    select 1 as case_id, cast('2026-03-01 20:30:00' as timestamp) as event_at,
           {{ to_reporting_date("cast('2026-03-01 20:30:00' as timestamp)", 'Asia/Shanghai') }} as actual_date,
           {{ date_literal('2026-03-02') }} as expected_date
    union all
    select 2, cast('2026-03-02 03:00:00' as timestamp),
           {{ to_reporting_date("cast('2026-03-02 03:00:00' as timestamp)", 'America/New_York') }},
           {{ date_literal('2026-03-01') }}
    union all
    select 3, cast('2026-03-01 23:59:59' as timestamp),
           {{ to_reporting_date("cast('2026-03-01 23:59:59' as timestamp)", 'UTC') }},
           {{ date_literal('2026-03-01') }}
),

final as (
    select * from cases
)

select * from final
where actual_date is null or actual_date <> expected_date
