{#- Incremental facts (documented in _macros.yml). -#}

{#- Rows loaded after the newest row the model already holds; every row on a full build, and on the first
    build after a model became incremental (the table it replaces has no loaded_at column yet). -#}
{% macro loaded_after_last_build(loaded_at_col='loaded_at') -%}
    {%- if is_incremental() and model_holds_loaded_at() -%}
        {{ loaded_at_col }} > (
            select coalesce(max(loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Whether the model's table has a loaded_at column: not when it was built before the model became incremental. -#}
{% macro model_holds_loaded_at() -%}
    {{ return('loaded_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)) }}
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


{#- Pre-hook: remove the rows whose key is no longer live in `relation` (a staging model with is_deleted and
    loaded_at): soft-deleted since the row was built, or its parent was. delete+insert only replaces keys present
    in the new batch, so it cannot. A key leaves in one of two ways, and each is found where it is cheap:
    - soft-deleted: its new version (is_deleted) was loaded after the newest row this model holds; found among
      the rows loaded since, like the batch itself (a small fraction of the anti-join's time: docs/benchmarks.md);
    - gone from the source: only a full refresh of the source table removes a raw row, and it loads every row
      again; when every row of `relation` is newer than this model (or either is empty), the anti-join over the
      whole relation finds the keys that are gone.
    Before the build, not after: the rows a build inserts are live by construction, and the delete then reads the
    committed table rather than the build's uncommitted rows. Nothing to do when the model is built whole (first
    build, --full-refresh): only live rows go in. -#}
{% macro delete_rows_no_longer_live(key_column, relation) -%}
    {{ return(adapter.dispatch('delete_rows_no_longer_live')(key_column, relation)) }}
{%- endmacro %}

{% macro default__delete_rows_no_longer_live(key_column, relation) -%}
  {%- if is_incremental() and execute %}
    {%- set built_up_to = "(select max(loaded_at) from " ~ this ~ ")" -%}
    {%- set reloaded_whole = not model_holds_loaded_at() or run_query(
        "select coalesce(min(loaded_at) > " ~ built_up_to ~ ", true) from " ~ relation
    ).columns[0].values()[0] %}
    delete from {{ this }} as target
    {%- if reloaded_whole %}
    where not exists (
        select 1
        from {{ relation }} as live
        where live.{{ key_column }} = target.{{ key_column }}
          and not live.is_deleted
    )
    {%- else %}
    where target.{{ key_column }} in (
        select {{ key_column }}
        from {{ relation }}
        where is_deleted
          and loaded_at > {{ built_up_to }}
    )
    {%- endif %}
  {%- endif %}
{%- endmacro %}

{#- Nothing to remove on Spark: the fact is rebuilt whole from the live rows (fact_materialization). -#}
{% macro spark__delete_rows_no_longer_live(key_column, relation) -%}
{%- endmacro %}
