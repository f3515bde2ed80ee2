-- median (dispatched: DuckDB median, Postgres percentile_cont, Spark percentile): an odd group gives its middle
-- value, an even group the mean of the middle two, nulls are ignored. Fails with every group that is wrong.
with samples as (
    select 'odd' as sample_group, cast(1 as integer) as sample_value
    union all select 'odd', 8
    union all select 'odd', 3
    union all select 'odd', null
    union all select 'even', 10
    union all select 'even', 1
    union all select 'even', 3
    union all select 'even', 2
),

medians as (
    select
        sample_group,
        {{ median('sample_value') }} as median_value
    from samples
    group by sample_group
),

final as (
    select
        medians.sample_group,
        medians.median_value,
        expected.median_value as expected_median
    from medians
    inner join (
        select 'odd' as sample_group, 3.0 as median_value  -- 1, 3, 8
        union all select 'even', 2.5                       -- 1, 2 | 3, 10: (2 + 3) / 2
    ) as expected
        on expected.sample_group = medians.sample_group
)

select * from final
where median_value is null or abs(median_value - expected_median) > 1e-9
