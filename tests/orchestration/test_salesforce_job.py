"""crm_elt with CRM_SOURCE_SYSTEM=salesforce, up to raw: the source checked, every synced object landed, gated and
merged under its own name (`user` too), an object the sync does not hold landed empty and said so once, a file-drop
table present though empty; the weekly full refresh stays off (the sync flags deletions)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.definitions import build_definitions
from orchestration.schedules import WEEKLY_FULL_REFRESH_SCHEDULE
from orchestration.settings import Settings
from orchestration.source_system import SALESFORCE, source_system
from tests.support.salesforce_db import create_salesforce_database

SYSTEM = source_system(SALESFORCE)
# A few objects keep the test short (every table's landing and gate are tests/extract's and tests/quality's): the
# reserved word `user`, the one not synced, and those their gate rules read (stages, currencies).
TABLES = ("user", "opportunity_stage", "opportunity", "currency_type", "forecasting_quota", "fx_rates")


def definitions(data_dir: Path, url: str) -> dg.Definitions:
    return build_definitions(
        Settings.from_environment(
            {
                "CRM_DATA_DIR": str(data_dir),
                "CRM_SOURCE_URL": url,
                "CRM_SOURCE_SYSTEM": "salesforce",
                "CRM_AS_OF_DATE": "2026-06-30",
                "DAGSTER_HOME": str(data_dir / "dagster_home"),
            }
        )
    )


def test_a_salesforce_run_lands_gates_and_merges_every_object_and_notes_the_one_not_synced(tmp_path):
    url = create_salesforce_database(tmp_path / "salesforce.sqlite", leave_out={"forecasting_quota": None})
    defs = definitions(tmp_path / "data", url)
    selection = [dg.AssetKey([layer, name]) for name in TABLES for layer in ("landing", "raw")]
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("crm_elt").execute_in_process(
            instance=instance, asset_selection=selection, raise_on_error=False
        )
        assert result.success
        landed = {
            materialization.asset_key.path[-1]: materialization.metadata
            for materialization in result.asset_materializations_for_node("landing__forecasting_quota")
        }
        notes = [
            event.message
            for event in instance.all_logs(result.run_id)
            if event.message and "optional table 'forecasting_quota'" in event.message
        ]
    assert landed["forecasting_quota"]["note"].value.startswith(
        "optional table 'forecasting_quota' is not in the CRM database (not synced): raw.forecasting_quota is empty"
    )
    assert len(notes) == 1  # said once, by the step that landed it
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        counts = {name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in TABLES}
    assert counts == {
        "user": 12,
        "opportunity_stage": 12,
        "opportunity": 12,
        "currency_type": 12,
        "forecasting_quota": 0,
        "fx_rates": 0,  # no file dropped: present, empty
    }
    schedule = defs.resolve_schedule_def(WEEKLY_FULL_REFRESH_SCHEDULE)
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
