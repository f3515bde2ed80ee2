{#- numerator / denominator as a fraction (domain.md §2: rates are fractions, 0.75 not 75), null when the
    denominator is zero or null: a rate whose denominator is zero is null, never 0 and never an error.
    Typed as dbt's numeric (numeric(28,6)) so every engine returns the same type for the contract. -#}
{% macro ratio(numerator, denominator) -%}
    cast(
        cast({{ numerator }} as {{ dbt.type_numeric() }})
        / nullif(cast({{ denominator }} as {{ dbt.type_numeric() }}), 0)
        as {{ dbt.type_numeric() }}
    )
{%- endmacro %}
