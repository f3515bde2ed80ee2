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
    assert settings["run_retries"]["enabled"] and settings["run_retries"]["max_retries"] >= 1
    assert settings["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert settings["freshness"]["enabled"] is True


def test_the_single_machine_settings_load_as_an_instance(tmp_path: Path):
    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


def test_the_production_settings_keep_run_history_in_postgres():
    from dagster._config import validate_config
    from dagster_postgres import DagsterPostgresStorage

    storage = yaml.safe_load((DEPLOY / "dagster.production.yaml").read_text())["storage"]["postgres"]
    assert validate_config(DagsterPostgresStorage.config_type(), storage).success
    assert all(value == {"env": f"DAGSTER_PG_{suffix}"} for value, suffix in zip(
        storage["postgres_db"].values(), ["HOST", "PORT", "DB", "USER", "PASSWORD"]))


def test_published_marts_carry_the_freshness_policy_of_the_settings(ops_crm):
    definitions = ops_crm.definitions(CRM_FRESHNESS_HOURS="30")
    graph = definitions.resolve_asset_graph()
    for key in (dg.AssetKey(["marts", "mart_sales_funnel"]), dg.AssetKey(["published", "crm_warehouse"])):
        policy = graph.get(key).freshness_policy
        assert policy.fail_window.to_timedelta().total_seconds() == 30 * 3600, key
        assert policy.warn_window.to_timedelta().total_seconds() == 15 * 3600, key
    assert graph.get(dg.AssetKey(["staging", "stg_crm__opportunities"])).freshness_policy is None
    assert graph.get(dg.AssetKey(["raw", "opportunities"])).freshness_policy is None
