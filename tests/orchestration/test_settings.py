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


def test_on_spark_the_job_keeps_landing_and_raw_in_duckdb_and_hands_dbt_parquet(tmp_path):
    from orchestration.definitions import build_definitions

    settings = Settings.from_environment({"CRM_WAREHOUSE_TARGET": "spark", "CRM_DATA_DIR": str(tmp_path)})
    warehouse = build_definitions(settings).resources["warehouse"]
    assert (warehouse.target, warehouse.marts_schema) == ("spark", "spark_marts")
    assert (warehouse.spark_dir, warehouse.raw_parquet_dir) == (str(tmp_path / "spark"), str(tmp_path / "raw_parquet"))
    assert warehouse.relation_schemas() == {"marts": "spark_marts", "snapshots": "spark_snapshots"}


def test_on_postgres_dbt_builds_the_published_models_aside_and_the_job_follows_the_target():
    from orchestration.definitions import build_definitions

    settings = Settings.from_environment(
        {
            "CRM_WAREHOUSE_TARGET": "postgres",
            "CRM_PG_HOST": "db.internal",
            "CRM_PG_PORT": "6543",
            "CRM_READER_ROLE": "bi_reader",
        }
    )
    assert (settings.marts_build_schema, Settings.from_environment({}).marts_build_schema) == ("marts_next", "marts")
    definitions = build_definitions(settings)
    warehouse, dbt = definitions.resources["warehouse"], definitions.resources["dbt"]
    assert (warehouse.target, warehouse.pg_host, warehouse.pg_port, warehouse.reader_role) == (
        "postgres",
        "db.internal",
        6543,
        "bi_reader",
    )
    assert dbt.target == "postgres"
    keys = {key.to_user_string() for key in definitions.resolve_asset_graph().get_all_asset_keys()}
    # The asset keys are the target's schemas as readers see them; the DuckDB-only dashboard is not there.
    assert {"marts/mart_sales_funnel", "published/crm_warehouse"} <= keys and "published/dashboard" not in keys


def test_the_extract_lookback_setting_changes_what_a_daily_run_re_reads(ops_crm, tmp_path):
    import sqlite3

    import dagster as dg

    from tests.orchestration.conftest import run_extract
    from tests.support.pipeline import materialization_metadata

    ops = ops_crm.copy_to(tmp_path / "data")
    with sqlite3.connect(ops.data_dir / "crm.sqlite") as source:
        (opportunities,) = source.execute("select count(*) from opportunities").fetchone()
    rows_read = {}
    for hours in ("0", "200000"):  # nothing before the watermark; every row since 2003
        with dg.DagsterInstance.ephemeral() as instance:
            result = run_extract(ops.definitions(CRM_EXTRACT_LOOKBACK_HOURS=hours), instance, "opportunities")
        assert result.success
        rows_read[hours] = materialization_metadata(result, "landing", "opportunities")["rows_read"]
    assert rows_read["200000"] == opportunities > rows_read["0"]


def test_the_fiscal_year_start_month_defaults_to_january_reaches_dbt_and_refuses_anything_but_1_to_12():
    assert Settings.from_environment({}).fiscal_year_start_month == 1
    february = Settings.from_environment({"CRM_FISCAL_YEAR_START_MONTH": "2"})
    assert february.dbt_environment()["CRM_FISCAL_YEAR_START_MONTH"] == "2"
    for bad in ("0", "13", "feb", "-1"):
        with pytest.raises(SettingsError, match=rf"CRM_FISCAL_YEAR_START_MONTH='{bad}'.*1 \(January\) to 12"):
            Settings.from_environment({"CRM_FISCAL_YEAR_START_MONTH": bad})
