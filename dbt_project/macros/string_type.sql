{#- Contracts and seeds name their text columns `varchar`, the type DuckDB and Postgres report. Spark 4 refuses a
    bare varchar (it needs a length): there the same unbounded text is `string`. dbt checks a contract by casting
    null to each declared type through dbt.cast, so this Spark variant of dbt's own cast is enough for every
    contract. Documented in _macros.yml. -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type(type) }})
{%- endmacro %}

{% macro spark_type(type) -%}
    {{- return('string' if type | trim | lower in ('varchar', 'text') else type) -}}
{%- endmacro %}
