"""The job that runs the whole story and the schedule that runs it daily (names from domain.md §4)."""

import dagster as dg

from orchestration.settings import Settings

# Runs carrying this tag are queued one at a time (see dagster.yaml): two runs never write one DuckDB file.
WAREHOUSE_WRITER_TAG = {"crm/warehouse_writer": "duckdb"}

crm_elt = dg.define_asset_job(
    name="crm_elt",
    selection=dg.AssetSelection.all(),
    description="Extract every CRM table, build and test the dbt project, publish the marts.",
    tags=WAREHOUSE_WRITER_TAG,
)


def build_daily_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="crm_elt_daily",
        job=crm_elt,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Runs crm_elt once a day (CRM_SCHEDULE_CRON in CRM_SCHEDULE_TIMEZONE).",
    )
