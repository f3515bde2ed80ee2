"""crm_elt with CRM_SOURCE_SYSTEM=wukong, up to raw: the source checked, every 悟空CRM table landed, gated and
merged under its own name, the file-drop tables present though empty; a bad code warns and is quarantined."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import build_definitions
from orchestration.settings import Settings
from orchestration.source_system import WUKONG, source_system
from tests.support.wukong_db import create_wukong_database, execute

SYSTEM = source_system(WUKONG)


def definitions(data_dir: Path, url: str) -> dg.Definitions:
    return build_definitions(
        Settings.from_environment(
            {
                "CRM_DATA_DIR": str(data_dir),
                "CRM_SOURCE_URL": url,
                "CRM_SOURCE_SYSTEM": "wukong",
                "CRM_AS_OF_DATE": "2026-06-30",
                "CRM_REPORTING_CURRENCY": "CNY",  # 悟空CRM's one currency: no fx_rates needed
                "DAGSTER_HOME": str(data_dir / "dagster_home"),
            }
        )
    )


def run_to_raw(defs: dg.Definitions, instance: dg.DagsterInstance, *tables: str) -> dg.ExecuteInProcessResult:
    """crm_elt restricted to landing and raw (gate 1 included; dbt has its own tests), of every table or `tables`."""
    names = tables or [table.name for table in SYSTEM.tables]
    selection = [dg.AssetKey([layer, name]) for name in names for layer in ("landing", "raw")]
    return defs.resolve_job_def("crm_elt").execute_in_process(
        instance=instance, asset_selection=selection, raise_on_error=False
    )


@pytest.fixture()
def wukong(tmp_path: Path) -> str:
    return create_wukong_database(tmp_path / "wukong.sqlite")


def test_a_wukong_run_lands_gates_and_merges_every_table_under_its_own_name(wukong, tmp_path):
    defs = definitions(tmp_path / "data", wukong)
    with dg.instance_for_test() as instance:
        first = run_to_raw(defs, instance)
        assert first.success
        # 悟空CRM gains a check_status this release does not know (a newer release's?) on an edited contract
        edited = datetime(2026, 6, 29, 10)
        execute(
            wukong, "update wk_crm_contract set check_status = 11, update_time = :t where contract_id = 6", t=edited
        )
        second = run_to_raw(defs, instance, "wk_crm_contract")
        assert second.success  # an unknown code warns, it does not stop the run
        warned = [
            evaluation
            for evaluation in second.get_asset_check_evaluations()
            if not evaluation.passed and evaluation.asset_key.path[-1] == "wk_crm_contract"
        ]
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        counts = {
            table.name: con.execute(f"select count(*) from raw.{table.name}").fetchone()[0] for table in SYSTEM.tables
        }
        quarantined = con.execute(
            "select table_name, primary_key, rule from raw._quarantine where table_name like 'wk_%'"
        ).fetchall()
        check_status = con.execute("select check_status from raw.wk_crm_contract where contract_id = 6").fetchone()
    assert {name: rows for name, rows in counts.items() if name not in ("fx_rates", "marketing_spend")} == {
        table.name: 12 for table in SYSTEM.database_tables
    }
    assert (counts["fx_rates"], counts["marketing_spend"]) == (0, 0)  # no file dropped: present, empty
    assert [(e.check_name, e.severity) for e in warned] == [("check_status_code_known", dg.AssetCheckSeverity.WARN)]
    assert quarantined == [("wk_crm_contract", "{'contract_id': 6}", "check_status_code_known")]
    assert check_status == (11,)  # kept in raw: the mapping decides, nothing is dropped


def test_a_wukong_run_stops_before_extracting_when_a_declared_column_is_missing(tmp_path):
    url = create_wukong_database(tmp_path / "wukong.sqlite", leave_out={"wk_crm_activity": ("activity_type",)})
    with dg.instance_for_test() as instance:
        result = run_to_raw(definitions(tmp_path / "data", url), instance)
    assert not result.success
    assert not [event for event in result.all_events if event.is_step_success]  # no step ran
    failure = next(event for event in result.all_events if event.event_type == dg.DagsterEventType.RUN_FAILURE)
    assert "table 'wk_crm_activity' lacks column(s) activity_type" in str(failure.event_specific_data.error)
