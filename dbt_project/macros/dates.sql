{#- Dates: the as-of date, the reporting time zone, day counts. Documented in _macros.yml. -#}

{% macro reporting_timezone() -%}
    {%- set timezone = var('reporting_timezone', 'UTC') | string | trim -%}
    {%- if timezone == '' -%}
        {%- set timezone = 'UTC' -%}
    {%- endif -%}
    {%- if timezone not in modules.pytz.all_timezones -%}
        {{ exceptions.raise_compiler_error(
            "var reporting_timezone (CRM_REPORTING_TIMEZONE) is '" ~ timezone ~ "', not an IANA time zone name;"
            ~ " use e.g. 'UTC' or 'Asia/Shanghai'") }}
    {%- endif -%}
    {{- return(timezone) -}}
{%- endmacro %}


{% macro as_of_date_string() -%}
    {%- set configured = var('as_of_date', '') | string | trim -%}
    {%- if configured == '' -%}
        {%- set today = modules.datetime.datetime.now(modules.pytz.timezone(reporting_timezone())).date() -%}
        {{- return(today.isoformat()) -}}
    {%- endif -%}
    {%- set error_message = "var as_of_date (CRM_AS_OF_DATE) is '" ~ configured
        ~ "', not a date; use YYYY-MM-DD or leave it empty for today" -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', configured) -%}
        {{ exceptions.raise_compiler_error(error_message) }}
    {%- endif -%}
    {%- set year, month, day = configured.split('-') | map('int') | list -%}
    {%- if month < 1 or month > 12 or day < 1 -%}
        {{ exceptions.raise_compiler_error(error_message) }}
    {%- endif -%}
    {%- set next_month_start = modules.datetime.date(year + month // 12, month % 12 + 1, 1) -%}
    {%- if day > (next_month_start - modules.datetime.timedelta(days=1)).day -%}
        {{ exceptions.raise_compiler_error(error_message) }}
    {%- endif -%}
    {{- return(configured) -}}
{%- endmacro %}


{% macro date_literal(iso_date) -%}
    cast('{{ iso_date }}' as date)
{%- endmacro %}


{% macro as_of_date() -%}
    {{ date_literal(as_of_date_string()) }}
{%- endmacro %}


{% macro to_reporting_date(timestamp_col, timezone=none) -%}
    {{ return(adapter.dispatch('to_reporting_date')(timestamp_col, timezone or reporting_timezone())) }}
{%- endmacro %}

{#- DuckDB and Postgres share the SQL-standard AT TIME ZONE: a naive timestamp read as UTC, then shown in the zone. -#}
{% macro default__to_reporting_date(timestamp_col, timezone) -%}
    {%- if timezone in ('UTC', 'Etc/UTC') -%}
        cast({{ timestamp_col }} as date)
    {%- else -%}
        cast(({{ timestamp_col }} at time zone 'UTC') at time zone '{{ timezone }}' as date)
    {%- endif -%}
{%- endmacro %}

{% macro spark__to_reporting_date(timestamp_col, timezone) -%}
    {%- if timezone in ('UTC', 'Etc/UTC') -%}
        cast({{ timestamp_col }} as date)
    {%- else -%}
        to_date(from_utc_timestamp({{ timestamp_col }}, '{{ timezone }}'))
    {%- endif -%}
{%- endmacro %}


{% macro days_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}


{% macro iso_day_of_week(date_col) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(date_col)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_col) -%}
    cast(extract(isodow from {{ date_col }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(date_col) -%}
    cast(extract(dayofweek_iso from {{ date_col }}) as integer)
{%- endmacro %}


{#- The first value of a one-date query as 'YYYY-MM-DD', or `default` when the query gives null or dbt is only parsing. -#}
{% macro query_date_string(sql, default) -%}
    {%- if not execute -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set result = run_query(sql) -%}
    {%- set value = result.columns[0].values()[0] if result.rows | length > 0 else none -%}
    {%- if value is none -%}
        {{ return(default) }}
    {%- endif -%}
    {{ return((value | string)[:10]) }}
{%- endmacro %}
