"""crm_elt on CRM_WAREHOUSE_TARGET=spark: landing, gate 1 and raw in the DuckDB file, dbt on Spark's local
session from raw Parquet files, gate 2 and publish from Spark's tables.

The CRM is the clean pipeline's own (tests/support/pipeline.py), so the file published from Spark must hold the very
rows of the DuckDB target's published file. Marked `spark` (Spark's local session: a few minutes).

To stay inside CI's time, the run executes the quality gates' checks and none of dbt's tests (each is a Spark job:
the 270 data tests take about ten minutes there); dbt's tests pass on Spark in the full build that
CRM_TEST_SPARK_FULL_BUILD=1 runs (tests/dbt/test_spark_warehouse.py), and every other target runs them in crm_elt.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from functools import partial
from pathlib import Path

import duckdb
import pytest

import simulator
from tests.support.pipeline import Pipeline, failure_messages, materialization_metadata
from tests.support.warehouses import assert_same_published_rows, duckdb_rows, spark_env, spark_unavailable_reason

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def on_spark(clean_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory):
    from orchestration.quality.checks import gate_1_checks, gate_2_checks

    if reason := spark_unavailable_reason():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("spark_job")
    shutil.copy(clean_pipeline.data_dir / "crm.sqlite", folder / "crm.sqlite")
    pipeline = Pipeline(folder, as_of=clean_pipeline.as_of)
    environment = {
        "CRM_WAREHOUSE_TARGET": "spark",
        "CRM_SPARK_DIR": str(folder / "spark"),
        "CRM_RAW_PARQUET_DIR": str(folder / "raw_parquet"),
    }
    gates = {key for checks in (*gate_1_checks, *gate_2_checks) for key in checks.check_keys}
    result = pipeline.run(environment=environment, asset_checks=gates)
    assert result.success, failure_messages(result)
    return pipeline, result


def test_the_file_published_from_spark_has_the_rows_of_the_duckdb_target(on_spark, clean_pipeline):
    pipeline, _ = on_spark
    assert_same_published_rows(
        clean_pipeline.published_path, "Spark (crm_elt)", partial(duckdb_rows, pipeline.published_path)
    )


def test_dbt_read_raw_from_the_parquet_files_the_merge_wrote(on_spark):
    pipeline, _ = on_spark
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as con:
        for table in ("opportunities", "payments"):
            raw = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            written = con.execute(
                f"select count(*) from read_parquet('{pipeline.data_dir / 'raw_parquet' / table}/*.parquet')"
            ).fetchone()[0]
            assert written == raw > 0
    spark_tables = pipeline.data_dir / "spark" / "warehouse"
    assert any((spark_tables / "marts.db" / "mart_sales_funnel").glob("*.parquet"))


def test_both_gates_ran_on_the_spark_run_and_passed(on_spark):
    _, result = on_spark
    evaluations = result.get_asset_check_evaluations()
    gate_2 = [e for e in evaluations if e.asset_key.path[0] == "marts"]
    gate_1 = [e for e in evaluations if e.asset_key.path[0] == "landing"]
    assert gate_1 and gate_2 and all(e.passed for e in evaluations)
    assert {e.check_name for e in gate_2} >= {"funnel_never_increases", "first_stage_reconciles_with_opportunities"}
    assert materialization_metadata(result, "published", "crm_warehouse")["row_counts"]["mart_sales_funnel"] > 0


# crm_elt on Spark with gate 1 and gate 2 only (as `on_spark` runs it), in a process of its own: the dbt manifest is
# parsed for one source system per process (orchestration/dbt_project.py).
GATES_ONLY_RUN = """
import sys
from pathlib import Path

sys.modules["__main__"].__file__ = "<gates-only run>"  # pyspark exits a __main__ without one (tests/conftest.py)

from orchestration.dbt_project import prepare_dbt_manifest

prepare_dbt_manifest()  # before the dbt assets are imported: they read it

from orchestration.quality.checks import build_gate_1_checks, gate_2_checks
from orchestration.settings import Settings
from orchestration.source_system import source_system
from tests.support.pipeline import Pipeline, failure_messages

gate_1_checks = build_gate_1_checks(source_system(Settings.from_environment().source_system).tables)
gates = {key for checks in (*gate_1_checks, *gate_2_checks) for key in checks.check_keys}
result = Pipeline(Path(sys.argv[1])).run(asset_checks=gates)
failed = [(e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations() if not e.passed]
sys.exit(f"{failure_messages(result)} {failed}" if not result.success or failed else 0)
"""


@pytest.fixture(scope="module")
def wukong_on_spark(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """A tiny 悟空CRM business taken through crm_elt on Spark: 悟空CRM's raw has no `opportunities` table."""
    if reason := spark_unavailable_reason():
        pytest.skip(reason)
    pipeline = Pipeline(tmp_path_factory.mktemp("spark_wukong"))
    simulator.generate(
        pipeline.source_url, opportunities=25, seed=3, end_date=pipeline.as_of, system="wukong", quiet=True
    )
    environment = {
        **os.environ,
        **pipeline.environment(),
        **spark_env(pipeline.data_dir / "spark", pipeline.data_dir / "raw_parquet"),
        "CRM_SOURCE_SYSTEM": "wukong",
        "CRM_REPORTING_CURRENCY": "CNY",
        "CRM_SOURCE_CURRENCY": "CNY",
    }
    done = subprocess.run(
        [sys.executable, "-c", GATES_ONLY_RUN, str(pipeline.data_dir)],
        env=environment,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return pipeline


def test_a_wukong_crm_publishes_from_spark_with_its_opportunities_as_the_snapshot_history(wukong_on_spark):
    """Every opportunity of the business (the simulator's contract-shaped record of it, beside the wk_ tables) is
    published, and gate 2 read the snapshot history from the contract-shaped staging table Spark built."""
    with sqlite3.connect(wukong_on_spark.data_dir / "crm.sqlite") as source:
        kept = {row[0] for row in source.execute("select opportunity_id from opportunities where not is_deleted")}
        every = {row[0] for row in source.execute("select opportunity_id from opportunities")}
    with duckdb.connect(str(wukong_on_spark.published_path), read_only=True) as con:
        published = {row[0] for row in con.execute("select opportunity_id from marts.fct_opportunities").fetchall()}
    with duckdb.connect(str(wukong_on_spark.warehouse_path), read_only=True) as con:
        history = {
            row[0] for row in con.execute("select opportunity_id from spark_snapshots.snap_opportunities").fetchall()
        }
    assert kept and published == kept
    assert history == every
