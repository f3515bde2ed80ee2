{#- Grants for the read-only role (documented in _macros.yml). Only Postgres has roles in this project. -#}

{% macro grant_schema_usage(schema_name, role) -%}
    {{ return(adapter.dispatch('grant_schema_usage')(schema_name, role)) }}
{%- endmacro %}

{% macro default__grant_schema_usage(schema_name, role) -%}
    select 1 as no_roles_on_this_engine
{%- endmacro %}

{#- A run that built nothing in the schema (dbt seed, a narrow selection) may find it missing: then no grant. -#}
{% macro postgres__grant_schema_usage(schema_name, role) -%}
    do $$ begin
        if exists (select from pg_namespace where nspname = '{{ schema_name }}') then
            grant usage on schema {{ adapter.quote(schema_name) }} to {{ adapter.quote(role) }};
        end if;
    end $$
{%- endmacro %}


{#- DuckDB is a file and Spark reads through its catalog: the grants config is for Postgres, silently. -#}
{% macro duckdb__apply_grants(relation, grant_config, should_revoke=True) -%}
{%- endmacro %}

{% macro spark__apply_grants(relation, grant_config, should_revoke=True) -%}
{%- endmacro %}
