{#- Spark's own date spine (documented in _macros.yml). dbt's portable date_spine numbers the rows of a ten-way
    cross join and, on Spark, took 45 s for three years of days; sequence() gives the same days at once.
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
