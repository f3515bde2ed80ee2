{#- The first day of the month of a date, as a date (date_trunc returns a timestamp on some engines). -#}
{% macro to_month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}
