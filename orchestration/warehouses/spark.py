"""Target spark, and its two bridges to the DuckDB file that keeps landing and raw.

On CRM_WAREHOUSE_TARGET=spark, extract and gate 1 work in the DuckDB file exactly as on the default target; dbt
(dbt-spark) builds the models on Spark from raw Parquet files and writes its tables as Parquet. So the job:
- writes every merged raw table to CRM_RAW_PARQUET_DIR/<table>/, which dbt's on-run-start hook registers as
  raw.<table> (macros/parquet_tables.sql);
- reads Spark's `marts` tables back through DuckDB views over their Parquet files, for gate 2 and for publish,
  which writes the same published file (and Parquet, and dashboard) as on target duckdb.
Reading Spark's tables as files needs their folder on a path this process reads: a local session's
CRM_SPARK_DIR, or a cluster's warehouse folder mounted here (README, "Running on Spark").
"""

from __future__ import annotations

import shutil
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb

from orchestration.disk_space import naming_a_full_disk
from orchestration.names import MARTS_SCHEMA, SPARK_MARTS_VIEWS_SCHEMA, SPARK_SNAPSHOTS_VIEWS_SCHEMA
from orchestration.raw_schema import RAW_SCHEMA
from orchestration.warehouses.duckdb import DuckDBWarehouse

STAGING_SCHEMA = "staging"
OPPORTUNITIES_MODEL = "stg_crm__opportunities"  # the contract-shaped opportunities, whichever the source system


class SparkWarehouse(DuckDBWarehouse):
    """The DuckDB target's file, extract, gate 1 and publish; dbt-spark's models, read back as views."""

    target = "spark"
    build_schema = SPARK_MARTS_VIEWS_SCHEMA
    keeps_snapshots = False  # dbt_project.yml: Spark keeps no snapshots
    dbt_reads_raw_parquet = True  # CRM_RAW_PARQUET_DIR, registered by dbt's on-run-start hook

    def relation_schemas(self) -> dict[str, str]:
        return {MARTS_SCHEMA: self.marts_schema, "snapshots": SPARK_SNAPSHOTS_VIEWS_SCHEMA}

    def after_merge(self, tables: list[str]) -> str | None:
        """dbt on Spark reads raw from Parquet."""
        with self.connect() as con:
            written = export_raw_tables(con, tables, Path(self.config.raw_parquet_dir))
        return f"raw tables written as Parquet for Spark: {', '.join(written) or 'none'}"

    def full_disk_named(self) -> AbstractContextManager[None]:
        """dbt writes Spark's folder, not the DuckDB file."""
        return naming_a_full_disk(Path(self.config.spark_dir) / "tables", "Spark's tables (CRM_SPARK_DIR)")

    def after_build(self, models: list[str]) -> None:
        """Gate 2 and publish read Spark's tables where the other targets' are."""
        with self.connect() as con:
            create_marts_views(con, Path(self.config.spark_dir), self.marts_schema, models)


class SparkTableMissing(RuntimeError):
    """A model gate 2 or publish reads has no Parquet files in Spark's warehouse folder; the message names it and
    the folder."""


def export_raw_tables(con: duckdb.DuckDBPyConnection, table_names: list[str], folder: Path) -> dict[str, Path]:
    """Write raw.<table> to folder/<table>/part-0.parquet; a table's folder is replaced whole, never mixed."""
    written = {}
    for name in table_names:
        target, fresh = folder / name, folder / f".{name}.{uuid.uuid4().hex}"
        fresh.mkdir(parents=True)
        con.execute(f"COPY {RAW_SCHEMA}.{name} TO '{fresh / 'part-0.parquet'}' (FORMAT parquet)")
        previous = folder / f".{name}.previous.{uuid.uuid4().hex}"
        if target.exists():
            target.rename(previous)
        fresh.rename(target)
        shutil.rmtree(previous, ignore_errors=True)
        written[name] = target
    return written


def create_marts_views(con: duckdb.DuckDBPyConnection, spark_dir: Path, schema: str, models: list[str]) -> None:
    """Views `<schema>.<model>` over the Parquet files of Spark's marts.<model>, and the snapshot history the marts
    read on Spark (macros/snapshot_history.sql: each opportunity's current state as its only version), read from the
    contract-shaped staging relation Spark built (a table there: dbt_project.yml), so that any source system has it."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for name in models:
        table_dir = _spark_table_dir(spark_dir, MARTS_SCHEMA, name)
        con.execute(
            f"CREATE OR REPLACE VIEW {schema}.\"{name}\" AS SELECT * FROM read_parquet('{table_dir}/*.parquet')"
        )
    opportunities = _spark_table_dir(spark_dir, STAGING_SCHEMA, OPPORTUNITIES_MODEL)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SPARK_SNAPSHOTS_VIEWS_SCHEMA}")
    con.execute(
        f"CREATE OR REPLACE VIEW {SPARK_SNAPSHOTS_VIEWS_SCHEMA}.snap_opportunities AS SELECT opportunity_id, "
        f"CAST(updated_at AS TIMESTAMP) AS dbt_valid_from, CAST(NULL AS TIMESTAMP) AS dbt_valid_to "
        f"FROM read_parquet('{opportunities}/*.parquet')"
    )


def _spark_table_dir(spark_dir: Path, schema: str, name: str) -> Path:
    """The folder of Spark's managed table <schema>.<name>; SparkTableMissing when it holds no Parquet file yet."""
    table_dir = spark_dir / "warehouse" / f"{schema}.db" / name
    if not any(table_dir.glob("*.parquet")):
        raise SparkTableMissing(
            f"{schema}.{name}: no Parquet files in {table_dir}; build it with dbt on Spark "
            f"(materialize {schema}/{name}) before gate 2 and publish"
        )
    return table_dir


WAREHOUSE = SparkWarehouse
