"""The Postgres raw loader: after each load its raw tables hold exactly the rows the DuckDB path holds."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

import simulator
from crm_contract import SOURCE_TABLES, source_table
from orchestration.incremental_load import load_table
from orchestration.postgres_raw import PostgresRawLoader
from orchestration.source_reader import SourceReader
from tests.support.raw_comparison import postgres_rows, postgres_watermark, raw_rows
from tests.support.servers import Server

END_DATE = date(2026, 6, 30)


@pytest.fixture()
def crm(tmp_path: Path) -> Path:
    path = tmp_path / "crm.sqlite"
    simulator.generate(f"sqlite:///{path}", opportunities=150, seed=5, end_date=END_DATE, quiet=True)
    return path


@pytest.fixture()
def warehouse_url(postgres: Server) -> str:
    return postgres.url(postgres.create_database())


def load_both(duck: duckdb.DuckDBPyConnection, loader: PostgresRawLoader, url: str, load_id: str, **options) -> dict:
    reader, merged = SourceReader(url), {}
    for table in SOURCE_TABLES:
        load_table(duck, reader, table, load_id=load_id, **options)
        loader.land_table(reader, table, load_id=load_id, **options)
    for result in loader.merge_landed(list(SOURCE_TABLES)):
        merged[result.table] = result
    return merged


def assert_same_raw(duck: duckdb.DuckDBPyConnection, url: str) -> None:
    for table in SOURCE_TABLES:
        assert postgres_rows(url, table.name) == raw_rows(duck, table.name), f"raw.{table.name} differs"


def test_postgres_raw_equals_duckdb_raw_after_first_incremental_and_full_loads(crm, warehouse_url, tmp_path):
    url, loader = f"sqlite:///{crm}", PostgresRawLoader(warehouse_url)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as duck:
        duck.execute("SET TimeZone = 'UTC'")
        first = load_both(duck, loader, url, "run-1")
        assert first["opportunities"].rows_inserted == 150
        assert_same_raw(duck, warehouse_url)

        simulator.advance(url, days=2)
        second = load_both(duck, loader, url, "run-2", lookback=timedelta(0))
        assert second["opportunities"].mode == "incremental" and second["opportunities"].rows_updated > 0
        assert_same_raw(duck, warehouse_url)
        assert (
            postgres_watermark(warehouse_url, "opportunities")
            == duck.execute("SELECT max(updated_at) FROM raw.opportunities").fetchone()[0]
        )

        with sqlite3.connect(crm) as src:
            src.execute("DELETE FROM customers WHERE customer_id IN (1, 2)")
        refreshed = load_both(duck, loader, url, "run-3", full_refresh=True)
        assert refreshed["customers"].hard_deleted == 2
        assert_same_raw(duck, warehouse_url)


def test_a_postgres_batch_is_not_in_raw_until_merged_and_merging_twice_changes_nothing(crm, warehouse_url):
    url, loader = f"sqlite:///{crm}", PostgresRawLoader(warehouse_url)
    table = source_table("payments")
    loader.land_table(SourceReader(url), table, load_id="run-1")
    assert postgres_watermark(warehouse_url, "payments") is None
    assert postgres_rows(warehouse_url, "payments") == []
    (merged,) = loader.merge_landed([table])
    assert merged.rows_inserted == len(postgres_rows(warehouse_url, "payments")) > 0
    assert loader.merge_landed([table]) == []
