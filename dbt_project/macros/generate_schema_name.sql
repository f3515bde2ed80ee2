{#- Use the folder's schema name as is (raw, staging, intermediate, marts), not <target>_<name>:
    analysts and BI tools rely on the schema `marts` (domain.md §3). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
