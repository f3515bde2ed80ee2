"""Build one simulated CRM into a DuckDB, a Postgres and a Spark warehouse, and read published models back.

Used by the engine tests: the same raw rows (each engine's own raw loader; Spark registers Parquet files written
from DuckDB's raw tables), the same `dbt build`, then the published models compared row by row.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import sqlalchemy as sa

import simulator
from crm_contract import SOURCE_TABLES
from orchestration.incremental_load import load_table
from orchestration.postgres_raw import PostgresRawLoader
from orchestration.source_reader import SourceReader
from tests.support.dbt import DBT_PROJECT_DIR, run_dbt
from tests.support.servers import Server

MONEY_AND_RATE_TOLERANCE = 1e-9  # money is compared to the cent and beyond; rates to 1e-9
# When each engine's load ran: bookkeeping, not data, and never the same on two loads.
LOAD_TIME_COLUMNS = frozenset({"loaded_at", "_loaded_at"})


@dataclass(frozen=True)
class EngineCrm:
    """A simulated CRM and its DuckDB warehouse: the reference every other engine must equal."""

    folder: Path
    source_url: str
    as_of_date: str
    duckdb_warehouse: Path


def build_engine_crm(folder: Path, *, end_date: date = date(2026, 6, 30)) -> EngineCrm:
    """One small CRM (150 opportunities) simulated up to end_date, and its DuckDB warehouse (raw and marts)."""
    source_url = f"sqlite:///{folder / 'crm.sqlite'}"
    simulator.generate(source_url, opportunities=150, seed=21, end_date=end_date, quiet=True)
    as_of_date = end_date.isoformat()
    return EngineCrm(folder, source_url, as_of_date, build_duckdb(source_url, folder / "duckdb", as_of_date))


def postgres_env(server: Server, database: str, *, reader_role: str = "crm_reader") -> dict[str, str]:
    return {
        "CRM_WAREHOUSE_TARGET": "postgres",
        "CRM_PG_HOST": server.host,
        "CRM_PG_PORT": str(server.port),
        "CRM_PG_USER": server.user,
        "CRM_PG_PASSWORD": server.password,
        "CRM_PG_DBNAME": database,
        "CRM_READER_ROLE": reader_role,
    }


def build_duckdb(source_url: str, folder: Path, as_of_date: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SET TimeZone = 'UTC'")
        reader = SourceReader(source_url)
        for table in SOURCE_TABLES:
            load_table(con, reader, table, load_id="equivalence")
    run_dbt(["build"], warehouse_path=warehouse, as_of_date=as_of_date)
    return warehouse


READER_PASSWORD = "reader-test-password"  # the read-only role on a throwaway server bound to 127.0.0.1


def create_reader_role(server: Server, database: str) -> None:
    """What an operator does once: create the read-only role that dbt grants the marts to."""
    admin = sa.create_engine(server.url(database), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.exec_driver_sql(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_reader') THEN "
                f"CREATE ROLE crm_reader LOGIN PASSWORD '{READER_PASSWORD}'; END IF; END $$"
            )
    finally:
        admin.dispose()


def build_postgres(source_url: str, server: Server, database: str, folder: Path, as_of_date: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    loader, reader = PostgresRawLoader(server.url(database)), SourceReader(source_url)
    for table in SOURCE_TABLES:
        loader.land_table(reader, table, load_id="equivalence")
    loader.merge_landed(list(SOURCE_TABLES))
    run_dbt(
        ["build"],
        warehouse_path=folder / "unused.duckdb",
        as_of_date=as_of_date,
        extra_env=postgres_env(server, database),
    )


# The Spark build runs the models, seeds and the macros' own tests (dbt_project/tests/macros), not the generic data
# tests and unit tests: identical rows to DuckDB's, where those pass, say the same, at a fraction of Spark's time
# (each test is a Spark job: the full `dbt build` took 11–16 minutes here). CRM_TEST_SPARK_FULL_BUILD=1 runs all.
SPARK_LEAN_BUILD = ["build", "--exclude", "test_type:generic", "test_type:unit"]


def spark_unavailable_reason() -> str | None:
    """Why the Spark target cannot run here (pyspark or Java missing), or None when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed: pip install -r requirements-spark.lock (the optional `spark` group)"
    if shutil.which("java") is None:
        return "java is not on PATH: Spark's local session needs Java 17 (apt-get install openjdk-17-jre-headless)"
    return None


def spark_env(spark_dir: Path, raw_parquet_dir: Path) -> dict[str, str]:
    return {
        "CRM_WAREHOUSE_TARGET": "spark",
        "CRM_SPARK_DIR": str(spark_dir),
        "CRM_RAW_PARQUET_DIR": str(raw_parquet_dir),
    }


def build_spark(duckdb_warehouse: Path, folder: Path, as_of_date: str) -> Path:
    """Spark's warehouse folder, built from the raw tables of a DuckDB warehouse.

    A Spark raw load in miniature: each raw table is written as Parquet, and the build's on-run-start hook
    registers the folders as raw tables (`create table ... using parquet location ...`) before the models run.
    """
    parquet_dir, spark_dir = folder / "raw_parquet", folder / "spark"
    with duckdb.connect(str(duckdb_warehouse), read_only=True) as con:
        for table in SOURCE_TABLES:
            (parquet_dir / table.name).mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY raw.{table.name} TO '{parquet_dir / table.name / 'part-0.parquet'}' (FORMAT parquet)")
    full = os.environ.get("CRM_TEST_SPARK_FULL_BUILD") == "1"
    run_dbt(
        ["build"] if full else SPARK_LEAN_BUILD,
        warehouse_path=folder / "unused.duckdb",
        as_of_date=as_of_date,
        extra_env=spark_env(spark_dir, parquet_dir),
    )
    return spark_dir


def spark_rows(spark_dir: Path, model: str, columns: Sequence[str]) -> list[tuple]:
    """A Spark table's rows, read from its Parquet files (no second Spark session needed to look)."""
    files = spark_dir / "warehouse" / "marts.db" / model / "*.parquet"
    with duckdb.connect() as con:
        return con.execute(f"SELECT {_column_list(columns)} FROM read_parquet('{files}')").fetchall()


def macro_test_results(dbt_target_dir: Path) -> dict[str, str]:
    """Status of each engine-dispatched macro's test (dbt_project/tests/macros) in a build's run_results.json."""
    macro_tests = {path.stem for path in (DBT_PROJECT_DIR / "tests" / "macros").glob("*.sql")}
    results = json.loads((dbt_target_dir / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[2]: r["status"]
        for r in results
        if r["unique_id"].startswith("test.crm_warehouse.") and r["unique_id"].split(".")[2] in macro_tests
    }


def assert_every_dispatched_macro_passed(build_folder: Path) -> None:
    """Every adapter.dispatch macro (dbt_project/macros) passed its worked example, a singular dbt test in
    dbt_project/tests/macros, in the `dbt build` whose folder this is (each engine's own, tests/dbt/conftest.py).

    Checked in each engine's module, so that a Spark build serves its module alone: under `--dist loadfile` a
    session fixture is built again in every process whose modules ask for it."""
    macro_tests = sorted(path.stem for path in (DBT_PROJECT_DIR / "tests" / "macros").glob("*.sql"))
    assert len(macro_tests) >= 6
    assert macro_test_results(build_folder / "dbt_target") == {name: "pass" for name in macro_tests}


def duckdb_models(warehouse: Path, schema: str = "marts") -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]
            ).fetchall()
        ]


def compared_columns(warehouse: Path, model: str) -> list[str]:
    """The model's columns in DuckDB's order, without the load-time bookkeeping."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = ? "
                "ORDER BY ordinal_position",
                [model],
            ).fetchall()
        ]
    return [name for name in names if name not in LOAD_TIME_COLUMNS]


def duckdb_rows(warehouse: Path, model: str, columns: Sequence[str]) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f'SELECT {_column_list(columns)} FROM marts."{model}"').fetchall()


def sqlalchemy_rows(url: str, model: str, columns: Sequence[str]) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            return [tuple(row) for row in con.exec_driver_sql(f'SELECT {_column_list(columns)} FROM marts."{model}"')]
    finally:
        engine.dispose()


def assert_same_published_rows(reference: Path, engine: str, rows: Callable[[str, Sequence[str]], list[tuple]]) -> None:
    """Every published model of the DuckDB reference has the same rows on `engine`, read by rows(model, columns)."""
    models = duckdb_models(reference)
    assert "mart_sales_funnel" in models and "fct_payments" in models
    for model in models:
        columns = compared_columns(reference, model)
        expected = duckdb_rows(reference, model, columns)
        assert expected, f"marts.{model} is empty: the comparison would prove nothing"
        diff = differences(expected, rows(model, columns))
        assert not diff, f"marts.{model}: DuckDB and {engine} differ, e.g. {diff[0][0]} vs {diff[0][1]}"


def _column_list(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def differences(left: Sequence[tuple], right: Sequence[tuple]) -> list[tuple[tuple, tuple]]:
    """Pairs of rows that differ once both sides are sorted; numbers equal within the tolerance."""
    if len(left) != len(right):
        return [((f"{len(left)} rows",), (f"{len(right)} rows",))]
    return [(a, b) for a, b in zip(sorted(left, key=_sort_key), sorted(right, key=_sort_key)) if not _same_row(a, b)]


def _sort_key(row: tuple) -> tuple:
    return tuple(
        (v is None, round(float(v), 6) if isinstance(v, (float, Decimal)) else v if v is not None else 0) for v in row
    )


def _same_row(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))


def _same_value(x: object, y: object) -> bool:
    if isinstance(x, (float, Decimal)) or isinstance(y, (float, Decimal)):
        if x is None or y is None:
            return x is y
        return math.isclose(float(x), float(y), rel_tol=0, abs_tol=MONEY_AND_RATE_TOLERANCE)
    return x == y
