"""The job that runs the whole story, the schedule that runs it daily (names from domain.md §4), and the weekly
full refresh that removes what a CRM hard-deleted."""

import dagster as dg

from orchestration.settings import Settings
from orchestration.source_system import WUKONG

# Runs carrying this tag are queued one at a time (see dagster.yaml): two runs never write one DuckDB file.
WAREHOUSE_WRITER_TAG = {"crm/warehouse_writer": "duckdb"}
# Run tag that turns every extract (and the dbt build) into a full refresh (orchestration/extract.py reads it).
FULL_REFRESH_TAG = "crm/full_refresh"
WEEKLY_FULL_REFRESH_SCHEDULE = "crm_elt_weekly_full_refresh"
# Sunday 03:00 in CRM_SCHEDULE_TIMEZONE: a quiet hour, well before the daily run's default 06:00.
WEEKLY_FULL_REFRESH_CRON = "0 3 * * 0"

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


def build_weekly_full_refresh_schedule(settings: Settings) -> dg.ScheduleDefinition:
    """crm_elt as a full refresh once a week: every table read whole, the keys gone from the source recorded in
    raw._hard_deletes and removed from raw, incremental models rebuilt.

    A watermark read sees inserts and edits, never a row the CRM deleted outright. 悟空CRM hard-deletes the
    children of a deleted record (product lines, follow-ups, custom-field rows, payment plans), so with
    CRM_SOURCE_SYSTEM=wukong this schedule is on from the start: such rows leave raw within a week. The
    contract's CRMs soft-delete (is_deleted), so there it is defined but stopped; turn it on in the UI if yours
    does not. Salesforce as a sync lands it needs none either: the sync never removes a row, it flags a record gone
    from the org with _fivetran_deleted, which the incremental read on _fivetran_synced brings like any edit.
    Either way, its status set in the UI wins over this default.
    """
    hard_deletes = settings.source_system == WUKONG
    return dg.ScheduleDefinition(
        name=WEEKLY_FULL_REFRESH_SCHEDULE,
        job=crm_elt,
        cron_schedule=WEEKLY_FULL_REFRESH_CRON,
        execution_timezone=settings.schedule_timezone,
        tags={FULL_REFRESH_TAG: "true"},
        default_status=dg.DefaultScheduleStatus.RUNNING if hard_deletes else dg.DefaultScheduleStatus.STOPPED,
        description="Runs crm_elt as a full refresh every Sunday at 03:00 (CRM_SCHEDULE_TIMEZONE): rows the CRM "
        "hard-deleted leave raw. On by default when CRM_SOURCE_SYSTEM=wukong (docs/extract-and-history.md); off for "
        "the contract and Salesforce, whose deletions arrive as flags.",
    )
