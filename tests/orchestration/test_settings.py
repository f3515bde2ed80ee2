"""CRM_WAREHOUSE_TARGET: read and checked in settings, and refused by the Dagster job where it cannot follow it."""

from __future__ import annotations

import pytest

from orchestration.settings import Settings, SettingsError


def test_the_warehouse_target_defaults_to_duckdb_and_accepts_the_profile_outputs():
    assert Settings.from_environment({}).warehouse_target == "duckdb"
    assert Settings.from_environment({"CRM_WAREHOUSE_TARGET": "spark"}).warehouse_target == "spark"


def test_an_unknown_warehouse_target_is_refused_naming_the_choices():
    with pytest.raises(SettingsError, match=r"CRM_WAREHOUSE_TARGET='oracle'.*duckdb, postgres, spark"):
        Settings.from_environment({"CRM_WAREHOUSE_TARGET": "oracle"})


@pytest.mark.parametrize("target", ["postgres", "spark"])
def test_the_dagster_job_refuses_a_target_it_does_not_drive_yet(target):
    from orchestration.definitions import build_definitions

    with pytest.raises(SettingsError, match=f"CRM_WAREHOUSE_TARGET={target}: the Dagster job runs on DuckDB only"):
        build_definitions(Settings.from_environment({"CRM_WAREHOUSE_TARGET": target}))
