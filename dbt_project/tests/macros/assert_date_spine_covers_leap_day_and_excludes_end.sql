-- dbt.date_spine (Spark: our spark__date_spine): 2024-02-27 up to, not including, 2024-03-02 is four days,
-- leap day included. Fails with a row describing the spine when it is wrong.
with days as (
    {{ dbt.date_spine('day', date_literal('2024-02-27'), date_literal('2024-03-02')) }}
),

summary as (
    select
        count(*)                     as day_count,
        min(cast(date_day as date))  as first_day,
        max(cast(date_day as date))  as last_day
    from days
),

final as (
    select * from summary
)

select * from final
where day_count <> 4
   or first_day <> {{ date_literal('2024-02-27') }}
   or last_day <> {{ date_literal('2024-03-01') }}
