"""The Spark warehouse target: the whole project builds with dbt-spark, and its numbers equal DuckDB's.

With Postgres (test_postgres_warehouse.py) this makes the three engines identical on every published model. Every
engine-dispatched macro passes its worked example on Spark too.
Marked `spark` (a few minutes: Spark's local session starts twice); deselect with `-m "not spark"`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tests.support.warehouses import (
    EngineCrm,
    assert_every_dispatched_macro_passed,
    assert_same_published_rows,
    spark_rows,
)

pytestmark = pytest.mark.spark


def test_every_published_model_has_identical_rows_on_duckdb_and_spark(engine_crm: EngineCrm, spark_warehouse: Path):
    assert_same_published_rows(engine_crm.duckdb_warehouse, "Spark", partial(spark_rows, spark_warehouse))


def test_spark_leaves_nothing_in_the_dbt_project_folder(spark_warehouse: Path):
    """The profile sends Derby's metastore and log and the tables to CRM_SPARK_DIR, not the working directory."""
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    assert not [name for name in ("metastore_db", "derby.log", "spark-warehouse") if (project / name).exists()]
    assert (spark_warehouse / "metastore_db").is_dir() and (spark_warehouse / "derby.log").is_file()


def test_every_dispatched_macro_passes_its_test_on_spark(engine_crm: EngineCrm, spark_warehouse: Path):
    assert_every_dispatched_macro_passed(engine_crm.folder / "spark")
