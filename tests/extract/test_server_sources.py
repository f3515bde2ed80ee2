"""Extract from a CRM on a real PostgreSQL or MariaDB server: raw equals the source, row by row.

The source rows are read independently of the loader (SQLAlchemy, not connectorx), so a type the
reader gets wrong on one server (MySQL's tinyint booleans, Postgres numerics) shows up as a difference.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
import sqlalchemy as sa

import simulator
from crm_contract import SOURCE_TABLES, SourceTable
from tests.support.raw_comparison import load_all
from tests.support.servers import Server

END_DATE = date(2026, 6, 30)


@pytest.fixture(params=["postgres", "mariadb"])
def server_source(request) -> str:
    server: Server = request.getfixturevalue(request.param)
    url = server.url(server.create_database())
    simulator.generate(url, opportunities=150, seed=11, end_date=END_DATE, quiet=True)
    return url


def rows_by_key(rows: list[tuple], table: SourceTable) -> dict[tuple, tuple]:
    key_positions = [table.column_names.index(k) for k in table.primary_key]
    return {tuple(row[i] for i in key_positions): tuple(row) for row in rows}


def source_rows_by_sqlalchemy(url: str, table: SourceTable) -> dict[tuple, tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            columns = sa.table(table.name, *(sa.column(c) for c in table.column_names))
            rows = [tuple(r) for r in con.execute(sa.select(columns))]
    finally:
        engine.dispose()
    return rows_by_key(rows, table)


def assert_raw_equals_server_source(con: duckdb.DuckDBPyConnection, url: str) -> None:
    for table in SOURCE_TABLES:
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        raw = rows_by_key(con.execute(f"SELECT {columns} FROM raw.{table.name}").fetchall(), table)
        source = source_rows_by_sqlalchemy(url, table)
        assert raw.keys() == source.keys(), f"raw.{table.name} has other keys than the source"
        differing = [k for k in source if raw[k] != source[k]]
        assert not differing, (
            f"raw.{table.name} differs from the source at {len(differing)} key(s), e.g. "
            f"{differing[0]}: raw {raw[differing[0]]} vs source {source[differing[0]]}"
        )


def test_raw_equals_a_server_source_row_by_row_after_first_and_incremental_loads(server_source, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_all(con, server_source, "run-1")
        assert_raw_equals_server_source(con, server_source)
        simulator.advance(server_source, days=2)
        results = load_all(con, server_source, "run-2", lookback=timedelta(0))
        assert_raw_equals_server_source(con, server_source)
        landed, merged = results["opportunities"]
        assert merged.mode == "incremental" and 0 < landed.rows_read < 150
