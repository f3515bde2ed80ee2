{#- Register Parquet files as tables (run-operation; documented in _macros.yml). Spark's way to receive raw data:
    the loader writes one Parquet folder per table (locally, HDFS or object storage) and the catalog points at it.
    A table registered again is replaced, so a reload never mixes two versions. -#}
{% macro register_parquet_tables(schema, locations) -%}
    {% do run_query('create schema if not exists ' ~ schema) %}
    {% for table, location in locations.items() %}
        {% do run_query('drop table if exists ' ~ schema ~ '.' ~ table) %}
        {% do run_query('create table ' ~ schema ~ '.' ~ table ~ " using parquet location '" ~ location ~ "'") %}
    {% endfor %}
    {{ log('registered ' ~ (locations | length) ~ ' Parquet tables in schema ' ~ schema, info=True) }}
{%- endmacro %}
