-- local_to_utc (dispatched: AT TIME ZONE twice, Spark to_utc_timestamp): a wall-clock time without a zone, read in
-- a zone, as UTC. 10:00 in Shanghai (UTC+8) is 02:00 UTC; 07:30 on 11 March in Shanghai is still 10 March, 23:30
-- UTC; noon in New York is 17:00 UTC in winter (EST, UTC-5) and 16:00 in summer (EDT, UTC-4); UTC is a plain cast.
with cases as (
    select 1 as case_id,
           {{ local_to_utc("cast('2025-01-10 10:00:00' as timestamp)", 'Asia/Shanghai') }} as actual_at,
           cast('2025-01-10 02:00:00' as timestamp) as expected_at
    union all
    select 2, {{ local_to_utc("cast('2025-03-11 07:30:00' as timestamp)", 'Asia/Shanghai') }},
           cast('2025-03-10 23:30:00' as timestamp)
    union all
    select 3, {{ local_to_utc("cast('2025-01-15 12:00:00' as timestamp)", 'America/New_York') }},
           cast('2025-01-15 17:00:00' as timestamp)
    union all
    select 4, {{ local_to_utc("cast('2025-07-01 12:00:00' as timestamp)", 'America/New_York') }},
           cast('2025-07-01 16:00:00' as timestamp)
    union all
    select 5, {{ local_to_utc("cast('2025-07-01 12:00:00' as timestamp)", 'UTC') }},
           cast('2025-07-01 12:00:00' as timestamp)
),

final as (
    select * from cases
)

select * from final
where actual_at is null or actual_at <> expected_at
