{#- numerator / denominator as a fraction (domain.md §2: rates are fractions, 0.75 not 75), null when the
    denominator is zero or null: a rate whose denominator is zero is null, never 0 and never an error.
    Typed as dbt's numeric (numeric(28,6)) so every engine returns the same type for the contract.

    The same digits on every engine: DuckDB divides decimals in double precision and Postgres exactly, so a
    plain cast rounded an exact half (5177.45 / 4000 = 1.2943625) down on one and up on the other. Here every
    engine divides in IEEE double precision (bit for bit the same quotient), rounds it to 6 decimals with
    floor(q × 10⁶ + 0.5), also in double, and scales the whole number back exactly in decimal. -#}
{% macro ratio(numerator, denominator) -%}
    cast(
        cast(
            floor(
                cast({{ numerator }} as {{ type_double() }})
                / nullif(cast({{ denominator }} as {{ type_double() }}), 0)
                * 1000000 + 0.5
            ) as {{ dbt.type_numeric() }}
        ) * 0.000001
        as {{ dbt.type_numeric() }}
    )
{%- endmacro %}


{#- IEEE double precision: dbt.type_float() is a 4-byte float on DuckDB. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
