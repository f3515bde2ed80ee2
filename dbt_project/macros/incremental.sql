{#- Incremental facts (documented in _macros.yml). -#}

{#- Rows loaded after the newest row the model already holds; every row on a full build, and on the first
    build after a model became incremental (the table it replaces has no loaded_at column yet). -#}
{% macro loaded_after_last_build(loaded_at_col='loaded_at') -%}
    {%- if is_incremental() and 'loaded_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) -%}
        {{ loaded_at_col }} > (
            select coalesce(max(loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- How the incremental facts are materialized: incrementally, except on Spark. Spark's Parquet tables cannot
    delete or merge rows (that takes Delta Lake or Iceberg), so there the facts are rebuilt whole every run:
    the same rows, more work. -#}
{% macro fact_materialization() -%}
    {{ return(adapter.dispatch('fact_materialization')()) }}
{%- endmacro %}

{% macro default__fact_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__fact_materialization() -%}
    {{ return('table') }}
{%- endmacro %}


{#- Pre-hook: remove the rows whose key is not among the live rows of `relation` (soft-deleted since the row
    was built, or its parent was). delete+insert only replaces keys present in the new batch, so it cannot.
    Before the build, not after: the rows a build inserts are live by construction, and the anti-join then reads
    the committed table rather than the build's uncommitted rows (4.4 s instead of 1.3 s for 9M activities).
    Nothing to do when the model is built whole (first build, --full-refresh): only live rows go in. -#}
{% macro delete_rows_not_in(key_column, relation, live_condition) -%}
    {{ return(adapter.dispatch('delete_rows_not_in')(key_column, relation, live_condition)) }}
{%- endmacro %}

{% macro default__delete_rows_not_in(key_column, relation, live_condition) -%}
  {%- if is_incremental() %}
    delete from {{ this }} as target
    where not exists (
        select 1
        from {{ relation }} as live
        where live.{{ key_column }} = target.{{ key_column }}
          and {{ live_condition }}
    )
  {%- endif %}
{%- endmacro %}

{#- Nothing to remove on Spark: the fact is rebuilt whole from the live rows (fact_materialization). -#}
{% macro spark__delete_rows_not_in(key_column, relation, live_condition) -%}
{%- endmacro %}
