"""Names more than one module uses, each defined here once: the pool, the run tags and the marts schema's names.

The modules that use them import them from here, so a name changes in one place and a reader finds what a
string means by searching for its constant.
"""

# Dagster's pool of the steps that write the warehouse (limit 1: DuckDB has one writer; orchestration/writer_lock.py).
WAREHOUSE_POOL = "crm_warehouse"
# The run tag asking for a full refresh: every table read whole, incremental models rebuilt (schedules, CLI).
FULL_REFRESH_TAG = "crm/full_refresh"

# The schema readers see the published models in: in the published DuckDB file, and on Postgres itself. Also
# the layer the mart suites are keyed by (expectations/marts/) and the dbt schema the published models belong to.
MARTS_SCHEMA = "marts"
# On Postgres dbt builds the published models in this schema; publishing renames it to MARTS_SCHEMA
# (orchestration/publish.py), so readers never see a half-built or ungated mart.
POSTGRES_MARTS_BUILD_SCHEMA = "marts_next"
# On Spark, gate 2 and publish read Spark's marts and snapshots through views in the DuckDB file, in these schemas
# (orchestration/warehouses/spark.py).
SPARK_MARTS_VIEWS_SCHEMA = "spark_marts"
SPARK_SNAPSHOTS_VIEWS_SCHEMA = "spark_snapshots"
