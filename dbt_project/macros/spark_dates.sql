{#- dbt's date macros on Spark, made fast (documented in _macros.yml). -#}


{#- Spark's own date spine. dbt's portable date_spine counts the periods with a query first, then numbers the
    rows of a cross join of two-row tables; sequence() gives the same days in one step.
    Same contract as dbt.date_spine: one row per period from start_date (included) to end_date (excluded),
    in a column named date_<datepart>. -#}
{% macro spark__date_spine(datepart, start_date, end_date) -%}
    select date_{{ datepart }}
    from (
        select explode(sequence(
            cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 {{ datepart }}
        )) as date_{{ datepart }}
    ) as periods
    where date_{{ datepart }} < cast({{ end_date }} as date)
{%- endmacro %}


{#- dbt-spark wraps every date argument of dateadd, datediff and last_day as
    coalesce(f(x), nvl2(f(x), assert_true(f(x) is not null), null)): three copies of x, so nested date macros
    (last_day of a dateadd of a date_trunc) grow threefold per level, and Spark spent tens of seconds just
    planning dim_date. The wrapper's value is always f(x) (when f(x) is null, nvl2 gives null too), so this is f(x). -#}
{% macro spark__assert_not_null(function, arg) -%}
    {{ function }}({{ arg }})
{%- endmacro %}
