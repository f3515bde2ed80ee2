{#- The fiscal calendar (domain.md §2 "fiscal calendar"): the fiscal year starts on the first day of month
    var fiscal_year_start_month (CRM_FISCAL_YEAR_START_MONTH, default 1) and is named by the calendar year in
    which it ends; its quarters are four 3-month blocks. Written once here for dim_date and the marts that place
    a month in its fiscal quarter without a dim_date row (a target set for a later month). Documented in
    _metric_macros.yml. -#}

{% macro fiscal_year_start_month() -%}
    {%- set configured = var('fiscal_year_start_month', 1) | string | trim -%}
    {%- if configured == '' -%}
        {{- return(1) -}}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{1,2}$', configured) or (configured | int) < 1 or (configured | int) > 12 -%}
        {{ exceptions.raise_compiler_error(
            "var fiscal_year_start_month (CRM_FISCAL_YEAR_START_MONTH) is '" ~ configured
            ~ "', not a month number; use 1 (January) to 12 (December)") }}
    {%- endif -%}
    {{- return(configured | int) -}}
{%- endmacro %}


{#- Months from the fiscal year's first month to the date's month: 0 to 11. -#}
{% macro fiscal_month_offset(date_expression) -%}
    ((cast(extract(month from {{ date_expression }}) as integer) - {{ fiscal_year_start_month() }} + 12) % 12)
{%- endmacro %}


{#- The calendar year in which the date's fiscal year ends. -#}
{% macro fiscal_year(date_expression) -%}
    {%- set start_month = fiscal_year_start_month() -%}
    cast(
        extract(year from {{ date_expression }})
        {%- if start_month > 1 %}
        + case when cast(extract(month from {{ date_expression }}) as integer) >= {{ start_month }} then 1 else 0 end
        {%- endif %}
    as integer)
{%- endmacro %}


{#- 1 to 4. -#}
{% macro fiscal_quarter(date_expression) -%}
    {%- set offset = fiscal_month_offset(date_expression) %}
    {#- an exact division: `/` of integers is a double on DuckDB and Spark -#}
    cast(({{ offset }} - {{ offset }} % 3) / 3 + 1 as integer)
{%- endmacro %}


{#- The first day of the date's fiscal quarter. -#}
{% macro fiscal_quarter_start(date_expression) -%}
    cast({{ dbt.dateadd(
        'month',
        '-1 * (' ~ fiscal_month_offset(date_expression) ~ ' % 3)',
        to_month_start(date_expression)
    ) }} as date)
{%- endmacro %}
