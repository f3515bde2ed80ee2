"""The simulated CRM the engine tests share, built once per engine: DuckDB (the reference), Postgres, Spark.

Session-scoped, because the equivalence tests and the per-engine macro tests read the same builds.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.servers import Server
from tests.support.warehouses import (
    EngineCrm,
    build_engine_crm,
    build_postgres,
    build_spark,
    create_reader_role,
    spark_unavailable_reason,
)


@pytest.fixture(scope="session")
def engine_crm(tmp_path_factory: pytest.TempPathFactory) -> EngineCrm:
    return build_engine_crm(tmp_path_factory.mktemp("engines"))


@pytest.fixture(scope="session")
def postgres_warehouse(postgres: Server, engine_crm: EngineCrm) -> str:
    """The URL of a Postgres warehouse built from the same raw rows (its own loader), reader role granted."""
    database = postgres.create_database()
    create_reader_role(postgres, database)
    build_postgres(engine_crm.source_url, postgres, database, engine_crm.folder / "postgres", engine_crm.as_of_date)
    return postgres.url(database)


@pytest.fixture(scope="session")
def spark_warehouse(engine_crm: EngineCrm) -> Path:
    """Spark's warehouse folder, built with dbt-spark's local session from DuckDB's raw tables as Parquet."""
    reason = spark_unavailable_reason()
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    spark_dir = build_spark(engine_crm.duckdb_warehouse, engine_crm.folder / "spark", engine_crm.as_of_date)
    print(f"\nSpark build (raw registration and dbt build): {time.monotonic() - started:.0f} s")
    return spark_dir
