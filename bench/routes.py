"""Ways to read the CRM's SQLite tables into DuckDB: the product's loader and the plain routes it is measured against.

Each function loads every contract table of `source` into a DuckDB connection (or only reads it) and returns
the number of source rows. bench/extract_routes.py compares them; the baseline (bench/baseline.py) uses the
fastest plain one, DuckDB's SQLite scanner with no checks, watermark or merge.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crm_contract import SOURCE_TABLES
from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT
from orchestration.sqlite_scanner import SOURCE_CATALOG, attach_sqlite


def route_ours(con: duckdb.DuckDBPyConnection, source: Path, advanced: Path | None = None) -> int:
    """The product's loader: land + merge, then, given a copy, its delta.

    On a SQLite file the loader reads through DuckDB's SQLite scanner when its wheel is installed (a delta via
    `sqlite_query`, filtered inside SQLite), else through connectorx → Arrow; route_connectorx_only is the
    latter's read alone.
    """
    from orchestration.incremental_load import load_table
    from orchestration.source_reader import SourceReader

    reader = SourceReader(f"sqlite:///{source}")
    rows = sum(load_table(con, reader, t, load_id="full")[0].rows_read for t in SOURCE_TABLES)
    if advanced is not None:
        started = time.perf_counter()
        reader = SourceReader(f"sqlite:///{advanced}")
        delta = sum(load_table(con, reader, t, load_id="delta")[0].rows_read for t in SOURCE_TABLES)
        print(json.dumps({"incremental_rows": delta, "incremental_seconds": round(time.perf_counter() - started, 2)}))
    return rows


def route_connectorx_only(con: duckdb.DuckDBPyConnection, source: Path) -> int:
    """connectorx → Arrow and nothing else: the read cost alone."""
    from orchestration.source_reader import SourceReader

    reader = SourceReader(f"sqlite:///{source}")
    return sum(reader.read(t, updated_since=None).num_rows for t in SOURCE_TABLES)


def route_sqlite3_arrow(con: duckdb.DuckDBPyConnection, source: Path) -> int:
    """Python's sqlite3 cursor → pyarrow → DuckDB: a hand-written loader without a columnar reader."""
    import sqlite3

    import pyarrow as pa

    rows = 0
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    with sqlite3.connect(source) as src:
        for table in SOURCE_TABLES:
            cursor = src.execute(f"SELECT {', '.join(table.column_names)} FROM {table.name}")
            first = True
            while chunk := cursor.fetchmany(200_000):
                batch = pa.Table.from_pylist([dict(zip(table.column_names, r)) for r in chunk])
                con.register("chunk", batch)
                verb = f"CREATE TABLE raw.{table.name} AS" if first else f"INSERT INTO raw.{table.name}"
                con.execute(f"{verb} SELECT * FROM chunk")
                con.unregister("chunk")
                rows += len(chunk)
                first = False
    return rows


def route_sqlite_scanner(con: duckdb.DuckDBPyConnection, source: Path) -> int:
    """DuckDB's SQLite scanner reads the file itself; the same casts to the contract's types as ours.

    No watermark, no merge, no duplicate check: every table is created from scratch, as a one-off load would.
    """
    from orchestration.duckdb_raw import typed_batch_query

    attach_sqlite(con, source)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    rows = 0
    for table in SOURCE_TABLES:
        query = typed_batch_query(table, f"{SOURCE_CATALOG}.{table.name}", deduplicate=False)
        con.execute(f"CREATE TABLE raw.{table.name} AS {query}", ["baseline", loaded_at])
        rows += con.execute(f"SELECT count(*) FROM raw.{table.name}").fetchone()[0]
    con.execute(f"DETACH {SOURCE_CATALOG}")
    return rows


ROUTES: dict[str, Callable[..., int]] = {
    "ours": route_ours,
    "connectorx_only": route_connectorx_only,
    "sqlite3_arrow": route_sqlite3_arrow,
    "sqlite_scanner": route_sqlite_scanner,
}


def duckdb_connection(
    path: Path, *, memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT, threads: int = 2
) -> duckdb.DuckDBPyConnection:
    """A plain connection with the warehouse's limits and UTC, writing extensions nowhere but a folder beside it."""
    con = duckdb.connect(
        str(path),
        config={
            "memory_limit": memory_limit,
            "threads": threads,
            "extension_directory": str(path.parent / ".duckdb_extensions"),
        },
    )
    con.execute("SET TimeZone = 'UTC'")
    return con
