"""crm_elt on CRM_WAREHOUSE_TARGET=spark: landing, gate 1 and raw in the DuckDB file, dbt on Spark's local
session from raw Parquet files, gate 2 and publish from Spark's tables.

The CRM is the clean pipeline's own (tests/support/pipeline.py), so the file published from Spark must hold the very
rows of the DuckDB target's published file. Marked `spark` (Spark's local session: a few minutes).

To stay inside CI's time, the run executes the quality gates' checks and none of dbt's tests (each is a Spark job:
the 270 data tests take about ten minutes there); dbt's tests pass on Spark in the full build that
CRM_TEST_SPARK_FULL_BUILD=1 runs (tests/dbt/test_spark_warehouse.py), and every other target runs them in crm_elt.
"""

from __future__ import annotations

import shutil
from functools import partial

import duckdb
import pytest

from tests.support.pipeline import Pipeline, failure_messages, materialization_metadata
from tests.support.warehouses import assert_same_published_rows, duckdb_rows, spark_unavailable_reason

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
