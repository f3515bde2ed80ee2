"""Build one simulated CRM into a DuckDB and a Postgres warehouse, and read published models back from either.

Used by the engine tests: the same raw rows (each engine's own raw loader), the same `dbt build`, then the
published models compared row by row (tests/dbt/test_engine_equivalence.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import duckdb
import sqlalchemy as sa

from crm_contract import SOURCE_TABLES
from orchestration.incremental_load import load_table
from orchestration.postgres_raw import PostgresRawLoader
from orchestration.source_reader import SourceReader
from tests.support.dbt import run_dbt
from tests.support.servers import Server

MONEY_AND_RATE_TOLERANCE = 1e-9  # money is compared to the cent and beyond; rates to 1e-9
# When each engine's load ran: bookkeeping, not data, and never the same on two loads.
LOAD_TIME_COLUMNS = frozenset({"loaded_at", "_loaded_at"})


def postgres_env(server: Server, database: str, *, reader_role: str = "crm_reader") -> dict[str, str]:
    return {"CRM_WAREHOUSE_TARGET": "postgres", "CRM_PG_HOST": server.host, "CRM_PG_PORT": str(server.port),
            "CRM_PG_USER": server.user, "CRM_PG_PASSWORD": server.password, "CRM_PG_DBNAME": database,
            "CRM_READER_ROLE": reader_role}


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


def build_postgres(source_url: str, server: Server, database: str, folder: Path, as_of_date: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    loader, reader = PostgresRawLoader(server.url(database)), SourceReader(source_url)
    for table in SOURCE_TABLES:
        loader.land_table(reader, table, load_id="equivalence")
    loader.merge_landed(list(SOURCE_TABLES))
    run_dbt(["build"], warehouse_path=folder / "unused.duckdb", as_of_date=as_of_date,
            extra_env=postgres_env(server, database))


def duckdb_models(warehouse: Path, schema: str = "marts") -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]).fetchall()]


def compared_columns(warehouse: Path, model: str) -> list[str]:
    """The model's columns in DuckDB's order, without the load-time bookkeeping."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [name for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = ? "
            "ORDER BY ordinal_position", [model]).fetchall()]
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


def _column_list(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def differences(left: Sequence[tuple], right: Sequence[tuple]) -> list[tuple[tuple, tuple]]:
    """Pairs of rows that differ once both sides are sorted; numbers equal within the tolerance."""
    if len(left) != len(right):
        return [((f"{len(left)} rows",), (f"{len(right)} rows",))]
    return [(a, b) for a, b in zip(sorted(left, key=_sort_key), sorted(right, key=_sort_key)) if not _same_row(a, b)]


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, round(float(v), 6) if isinstance(v, (float, Decimal)) else v if v is not None else 0)
                 for v in row)


def _same_row(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))


def _same_value(x: object, y: object) -> bool:
    if isinstance(x, (float, Decimal)) or isinstance(y, (float, Decimal)):
        if x is None or y is None:
            return x is y
        return math.isclose(float(x), float(y), rel_tol=0, abs_tol=MONEY_AND_RATE_TOLERANCE)
    return x == y
