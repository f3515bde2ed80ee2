-- ratio (and type_double, dispatched): six decimals, the same digits on every engine, null when the denominator
-- is zero or null. 5177.45 / 4000 = 1.2943625 exactly, but divided in double precision (5177.45 is
-- 5177.4499999… in binary) it is just under the half: 1.294362 everywhere, where an exact decimal division
-- (Postgres) would give 1.294363 and DuckDB 1.294362.
with cases as (
    select 1 as case_id, cast(5177.45 as decimal(18,2)) as numerator, cast(4000 as decimal(18,2)) as denominator,
           cast(1.294362 as decimal(28,6)) as expected_ratio
    union all select 2, 2, 3, 0.666667
    union all select 3, 1, 8, 0.125
    union all select 4, 1, 0, null
    union all select 5, 1, null, null
),

final as (
    select
        case_id,
        {{ ratio('numerator', 'denominator') }} as actual_ratio,
        expected_ratio
    from cases
)

select * from final
where not (
    (actual_ratio is null and expected_ratio is null)
    or abs(actual_ratio - expected_ratio) < 1e-9
)
