{#- Money in the reporting currency (domain.md §3). Documented in _macros.yml. -#}

{% macro reporting_currency() -%}
    {{- return(var('reporting_currency', 'USD') | string | trim | upper or 'USD') -}}
{%- endmacro %}


{% macro to_money(amount_expr) -%}
    cast(round({{ amount_expr }}, 2) as decimal(18,2))
{%- endmacro %}


{#- The date whose rate converts an event: the event's date, or the as-of date for a later event
    (stg_crm__fx_rates ends at the as-of date: the warehouse does not look past it). Null stays null. -#}
{% macro fx_rate_date(event_date) -%}
    case when {{ event_date }} > {{ as_of_date() }} then {{ as_of_date() }} else {{ event_date }} end
{%- endmacro %}


{% macro join_fx_rates(alias, currency_col, event_date) -%}
    left join {{ ref('stg_crm__fx_rates') }} as {{ alias }}
        on {{ alias }}.currency = {{ currency_col }}
        and {{ alias }}.date_day = {{ fx_rate_date(event_date) }}
{%- endmacro %}


{% macro reporting_rate(currency_col, fx_rate_col) -%}
    case
        when {{ currency_col }} = '{{ reporting_currency() }}' then cast(1 as decimal(18,8))
        else {{ fx_rate_col }}
    end
{%- endmacro %}


{#- One exact product, rounded once, on every engine (documented in _macros.yml). -#}
{% macro to_reporting_currency(amount_expr, rate_col) -%}
    {{ to_money('cast(' ~ amount_expr ~ ' as decimal(20,8)) * cast(' ~ rate_col ~ ' as decimal(17,8))') }}
{%- endmacro %}


{#- quantity × unit_price × (1 − discount_pct / 100), kept in decimals (a division would give a double). The
    quantity is a whole number (decimal(19,0) holds any bigint): the product's scale is then exactly 8, so
    to_reporting_currency's cast to decimal(20,8) does not rescale it (rescaling 128-bit decimals was a large share
    of fct_opportunity_lines' build on DuckDB: docs/benchmarks.md). -#}
{% macro line_amount(quantity_col, unit_price_col, discount_pct_col) -%}
    cast({{ quantity_col }} as decimal(19,0)) * {{ unit_price_col }} * (100 - coalesce({{ discount_pct_col }}, 0)) * 0.01
{%- endmacro %}
