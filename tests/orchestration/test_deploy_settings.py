"""The Dagster instance settings shipped in deploy/ are valid for the installed Dagster, and say what the README says."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.parametrize("name", ["dagster.yaml", "dagster.production.yaml"])
def test_instance_settings_validate_and_retry_only_crashed_runs(name: str):
    from dagster._config import validate_config
    from dagster._core.instance.config import dagster_instance_config_schema

    settings = yaml.safe_load((DEPLOY / name).read_text())
    validation = validate_config(dagster_instance_config_schema(), settings)
    assert validation.success, [error.message for error in validation.errors]
    assert settings["concurrency"]["pools"]["default_limit"] == 1  # one writer of the DuckDB file
    run_limits = (settings["concurrency"].get("runs") or settings["run_coordinator"]["config"])[
        "tag_concurrency_limits"
    ]
    assert {"key": "crm/warehouse_writer", "limit": 1} in run_limits  # one warehouse-writing run at a time
    assert settings["run_launcher"] == {"module": "orchestration.run_launcher", "class": "CrmRunLauncher"}
    assert settings["run_monitoring"]["enabled"] and settings["run_monitoring"]["free_slots_after_run_end_seconds"] > 0
    assert settings["run_retries"]["enabled"] and settings["run_retries"]["max_retries"] >= 1
    assert settings["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert settings["freshness"]["enabled"] is True


def test_the_single_machine_settings_load_as_an_instance(tmp_path: Path):
    from orchestration.run_launcher import CrmRunLauncher
    from orchestration.schedules import WAREHOUSE_WRITER_TAG

    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert isinstance(instance.run_launcher, CrmRunLauncher)
        assert instance.run_launcher.supports_check_run_worker_health
    assert set(WAREHOUSE_WRITER_TAG) == {"crm/warehouse_writer"}  # the tag both files limit


def test_an_existing_dagster_home_that_differs_from_the_project_settings_is_named_on_start(tmp_path: Path, capsys):
    from orchestration.cli import ensure_dagster_home
    from orchestration.settings import Settings

    settings = Settings.from_environment({"DAGSTER_HOME": str(tmp_path / "home"), "CRM_DATA_DIR": str(tmp_path)})
    ensure_dagster_home(settings)
    assert capsys.readouterr().err == ""  # new: the project's settings, nothing to say
    tuned = yaml.safe_load((tmp_path / "home" / "dagster.yaml").read_text())
    del tuned["run_launcher"]
    (tmp_path / "home" / "dagster.yaml").write_text(yaml.safe_dump(tuned))
    ensure_dagster_home(settings)
    note = capsys.readouterr().err
    assert "differs from the project's" in note and "in: run_launcher;" in note
    assert f"cp {DEPLOY / 'dagster.yaml'} {tmp_path / 'home' / 'dagster.yaml'}" in note


def test_the_production_settings_keep_run_history_in_postgres():
    from dagster._config import validate_config
    from dagster_postgres import DagsterPostgresStorage

    storage = yaml.safe_load((DEPLOY / "dagster.production.yaml").read_text())["storage"]["postgres"]
    assert validate_config(DagsterPostgresStorage.config_type(), storage).success
    assert all(
        value == {"env": f"DAGSTER_PG_{suffix}"}
        for value, suffix in zip(storage["postgres_db"].values(), ["HOST", "PORT", "DB", "USER", "PASSWORD"])
    )


def test_published_marts_carry_the_freshness_policy_of_the_settings(ops_crm):
    definitions = ops_crm.definitions(CRM_FRESHNESS_HOURS="30")
    graph = definitions.resolve_asset_graph()
    for key in (dg.AssetKey(["marts", "mart_sales_funnel"]), dg.AssetKey(["published", "crm_warehouse"])):
        policy = graph.get(key).freshness_policy
        assert policy.fail_window.to_timedelta().total_seconds() == 30 * 3600, key
        assert policy.warn_window.to_timedelta().total_seconds() == 15 * 3600, key
    assert graph.get(dg.AssetKey(["staging", "stg_crm__opportunities"])).freshness_policy is None
    assert graph.get(dg.AssetKey(["raw", "opportunities"])).freshness_policy is None
