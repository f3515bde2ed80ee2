{#
  The SCD2 history a snapshot keeps (snap_opportunities, ...), for the models that read it.

  On Spark, dbt snapshots need Delta Lake or Hudi tables, whose jars a local session cannot fetch here, so
  the snapshots are disabled on that target (dbt_project.yml) and the history is the current state of the
  staging model as one version per row: exactly what a first snapshot records (valid from the CRM's
  updated_at, open-ended), so one build gives the same rows as on DuckDB and Postgres. On a cluster with
  Delta, set `file_format: delta` on the snapshots and enable them to keep real history there too.
#}
{% macro snapshot_history(snapshot_name, current_model) %}
    {{ return(adapter.dispatch('snapshot_history')(snapshot_name, current_model)) }}
{% endmacro %}

{% macro default__snapshot_history(snapshot_name, current_model) %}
    {{ ref(snapshot_name) }}
{% endmacro %}

{% macro spark__snapshot_history(snapshot_name, current_model) %}
    (
        select
            *,
            updated_at                  as dbt_valid_from,
            cast(null as timestamp)     as dbt_valid_to,
            updated_at                  as dbt_updated_at
        from {{ ref(current_model) }}
    )
{% endmacro %}
