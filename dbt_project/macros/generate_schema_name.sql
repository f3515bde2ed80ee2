{#- Use the folder's schema name as is (raw, staging, intermediate, marts), not <target>_<name>:
    analysts and BI tools rely on the schema `marts` (domain.md §3).
    The var marts_schema builds the published models elsewhere: the Dagster job on Postgres builds them in
    `marts_next` and renames it to `marts` once gate 2 has passed (orchestration/publish.py). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts' -%}
        {{ var('marts_schema', 'marts') }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
