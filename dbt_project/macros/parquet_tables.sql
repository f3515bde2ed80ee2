{#- Register Parquet files as tables (run-operation; documented in _macros.yml). Spark's way to receive raw data:
    the loader writes one Parquet folder per table (locally, HDFS or object storage) and the catalog points at it.
    A table registered again is replaced, so a reload never mixes two versions. -#}
{% macro register_parquet_tables(schema, locations) -%}
    {% do run_query('create schema if not exists ' ~ schema) %}
    {% for table, location in locations.items() %}
        {%- set relation = schema ~ '.' ~ adapter.quote(table) -%}  {#- quoted: Salesforce's `user` -#}
        {% do run_query('drop table if exists ' ~ relation) %}
        {% do run_query('create table ' ~ relation ~ " using parquet location '" ~ location ~ "'") %}
    {% endfor %}
    {{ log('registered ' ~ (locations | length) ~ ' Parquet tables in schema ' ~ schema, info=True) }}
{%- endmacro %}


{#- on-run-start: when CRM_RAW_PARQUET_DIR names a folder, register <folder>/<table> as raw.<table> for every
    enabled table of the sources crm, wukong and salesforce (the source system's raw tables), in the same Spark session as the
    build (one session start instead of two).
    Empty (the default, and on DuckDB and Postgres, whose raw loaders write tables): nothing. -#}
{% macro register_raw_parquet(parquet_dir) -%}
    {%- if execute and parquet_dir -%}
        {%- set locations = {} -%}
        {%- for source in graph.sources.values() if source.source_name in ('crm', 'wukong', 'salesforce') -%}
            {%- do locations.update({source.name: parquet_dir ~ '/' ~ source.name}) -%}
        {%- endfor -%}
        {%- do register_parquet_tables('raw', locations) -%}
    {%- endif -%}
{%- endmacro %}
