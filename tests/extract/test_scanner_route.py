"""SQLite sources land through DuckDB's own SQLite scanner: the same raw rows as the connectorx route, a delta
read filtered inside SQLite, the same errors, and connectorx whenever the scanner's wheel is missing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import connectorx
import duckdb
import pytest

import simulator
from crm_contract import SOURCE_TABLES, source_table
from orchestration.incremental_load import land_table, load_table, read_watermark
from orchestration.source_reader import SourceContractError, SourceReader
from orchestration.transient_errors import SourceRetries
from tests.support.raw_comparison import load_all, raw_rows

LOOKBACK = timedelta(hours=6)


@pytest.fixture()
def connectorx_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries connectorx is asked to read (it still reads them)."""
    calls: list[str] = []
    read_sql = connectorx.read_sql

    def counting(url: str, query: str, **options):
        calls.append(query)
        return read_sql(url, query, **options)

    monkeypatch.setattr(connectorx, "read_sql", counting)
    return calls


def without_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without the duckdb-extension-sqlite-scanner wheel: importing it fails."""
    monkeypatch.setitem(sys.modules, "duckdb_extension_sqlite_scanner", None)


def make_dirty(path: Path) -> None:
    """Nulls and whole numbers in NUMERIC columns, and a key held twice whose newer copy must win."""
    with sqlite3.connect(path) as src:
        src.execute("UPDATE payments SET amount = NULL WHERE payment_id = (SELECT min(payment_id) FROM payments)")
        src.execute("UPDATE payments SET amount = 5 WHERE payment_id = (SELECT max(payment_id) FROM payments)")
        src.execute("UPDATE opportunities SET amount = NULL WHERE opportunity_id = 2")
        src.execute("INSERT INTO opportunities SELECT * FROM opportunities WHERE opportunity_id = 1")
        src.execute(
            "UPDATE opportunities SET amount = 4242.5, updated_at = datetime(updated_at, '+1 second') "
            "WHERE rowid = (SELECT max(rowid) FROM opportunities)"
        )


def everything_loaded(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t.name: raw_rows(con, t.name) for t in SOURCE_TABLES}


def land_counts(results: dict[str, tuple]) -> dict[str, tuple]:
    """What the landing metadata says of each table: mode, rows read, rows landed, duplicates collapsed."""
    return {
        name: (landed.mode, landed.rows_read, landed.rows_landed, landed.duplicate_source_rows)
        for name, (landed, _) in results.items()
    }


def load_both_routes(
    scanner: duckdb.DuckDBPyConnection,
    arrow: duckdb.DuckDBPyConnection,
    url: str,
    run: str,
    monkeypatch: pytest.MonkeyPatch,
    connectorx_calls: list[str],
) -> dict[str, tuple]:
    """The same load into two warehouses: through the scanner, then without its wheel (connectorx)."""
    scanned = load_all(scanner, url, run, lookback=LOOKBACK)
    assert connectorx_calls == []  # the scanner read every table
    with monkeypatch.context() as patched:
        without_scanner(patched)
        read = load_all(arrow, url, run, lookback=LOOKBACK)
    assert len(connectorx_calls) == len(SOURCE_TABLES)  # the fallback read every table with connectorx
    connectorx_calls.clear()
    assert everything_loaded(scanner) == everything_loaded(arrow)
    assert land_counts(scanned) == land_counts(read)
    return land_counts(scanned)


def test_full_and_incremental_loads_land_the_connectorx_routes_rows(source, tmp_path, monkeypatch, connectorx_calls):
    url, path = source
    make_dirty(path)
    with (
        duckdb.connect(str(tmp_path / "scanner.duckdb")) as scanner,
        duckdb.connect(str(tmp_path / "connectorx.duckdb")) as arrow,
    ):
        full = load_both_routes(scanner, arrow, url, "run-1", monkeypatch, connectorx_calls)
        assert full["opportunities"] == ("full_refresh", 301, 300, 1)
        amounts = scanner.execute(
            "SELECT opportunity_id, amount FROM raw.opportunities WHERE opportunity_id IN (1, 2) ORDER BY 1"
        ).fetchall()
        assert amounts == [(1, 4242.5), (2, None)]  # the newer copy won; a null stayed null

        simulator.advance(url, days=2)
        with sqlite3.connect(path) as src:  # a key held twice inside the delta, the copy newer
            src.execute("UPDATE payments SET updated_at = '2026-07-01 11:00:00.000000' WHERE payment_id = 3")
            src.execute("INSERT INTO payments SELECT * FROM payments WHERE payment_id = 3")
            src.execute(
                "UPDATE payments SET amount = 77, updated_at = '2026-07-01 12:00:00.000000' "
                "WHERE rowid = (SELECT max(rowid) FROM payments)"
            )
        delta = load_both_routes(scanner, arrow, url, "run-2", monkeypatch, connectorx_calls)
        assert {mode for mode, *_ in delta.values()} == {"incremental"}
        assert delta["payments"][3] == 1
        assert scanner.execute("SELECT amount, updated_at FROM raw.payments WHERE payment_id = 3").fetchone() == (
            77,
            datetime(2026, 7, 1, 12),
        )


def test_without_the_scanners_wheel_sqlite_is_read_with_connectorx(source, tmp_path, monkeypatch, connectorx_calls):
    url, _ = source
    without_scanner(monkeypatch)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        landed, _ = load_table(con, SourceReader(url), source_table("customers"), load_id="run-1")
        assert [query.split(" FROM ")[-1] for query in connectorx_calls] == ['"customers"']  # quoted, as any table
        assert landed.rows_read == con.execute("SELECT count(*) FROM raw.customers").fetchone()[0] > 0


def test_a_delta_reads_only_rows_since_the_watermark_minus_the_lookback(source, tmp_path):
    url, path = source
    table = source_table("activities")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_table(con, SourceReader(url), table, load_id="run-1")
        since = read_watermark(con, "activities") - LOOKBACK
        simulator.advance(url, days=1)
        with sqlite3.connect(path) as src:
            expected = src.execute(
                "SELECT count(*) FROM activities WHERE updated_at >= ?", [since.strftime("%Y-%m-%d %H:%M:%S.%f")]
            ).fetchone()[0]
            total = src.execute("SELECT count(*) FROM activities").fetchone()[0]
        statements = StatementLog(con)
        landed = land_table(statements, SourceReader(url), table, load_id="run-2", lookback=LOOKBACK)
        assert landed.read_since == since
        assert 0 < landed.rows_read == expected < total
        assert con.execute("SELECT min(updated_at) >= ? FROM landing.activities", [since]).fetchone()[0]
        # the filter ran inside SQLite, so the read cost what the delta costs
        (scan,) = [sql for sql in statements.log if "sqlite_query(" in sql]
        assert f"WHERE updated_at >= ''{since.strftime('%Y-%m-%d %H:%M:%S.%f')}''" in scan


class StatementLog:
    """A DuckDB connection that records the SQL it is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.log = con, []

    def __getattr__(self, name):
        return getattr(self.con, name)

    def execute(self, sql, *args):
        self.log.append(sql)
        return self.con.execute(sql, *args)


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "delta"])
def test_text_in_a_money_column_fails_with_the_connectorx_routes_message(source, tmp_path, incremental):
    url, path = source
    table = source_table("contracts")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        if incremental:
            load_table(con, SourceReader(url), table, load_id="run-1")
        with sqlite3.connect(path) as src:
            src.execute(
                "UPDATE contracts SET amount = 'about 5k', updated_at = '2026-07-01 00:00:00.000000' "
                "WHERE contract_id IN (SELECT contract_id FROM contracts LIMIT 2)"
            )
        with pytest.raises(
            SourceContractError,
            match=r"^source table 'contracts', column 'amount': 2 value\(s\) are "
            r"not numbers \(money in domain.md §1\); fix them in the CRM database$",
        ):
            land_table(con, SourceReader(url), table, load_id="run-2")


def test_another_bad_value_fails_naming_the_table(source, tmp_path):
    url, path = source
    with sqlite3.connect(path) as src:
        src.execute("UPDATE opportunities SET created_at = 'last tuesday' WHERE opportunity_id = 7")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        with pytest.raises(SourceContractError, match="source table 'opportunities'"):
            land_table(con, SourceReader(url), source_table("opportunities"), load_id="run-1")
        assert con.execute("SELECT count(*) FROM landing._batches").fetchone()[0] == 0


def test_a_source_locked_by_another_process_is_retried_then_read(source, tmp_path):
    url, path = source
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(path), "2.5"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    retries: list[str] = []
    reader = SourceReader(url, SourceRetries(retries=4, first_delay_seconds=0.5), on_retry=retries.append)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        with reader.batch_in(con, source_table("users"), updated_since=None) as batch:
            rows = con.execute(f"SELECT count(*) FROM {batch}").fetchone()[0]
    holder.wait()
    assert retries and retries[0].startswith("reading source table 'users': ")
    assert "database is locked" in retries[0]
    with sqlite3.connect(path) as src:
        assert rows == src.execute("SELECT count(*) FROM users").fetchone()[0]


# Another process, as a CRM application would be: SQLite's file locks do not separate two copies of SQLite
# inside one process (Python's and the scanner's).
LOCK_HOLDER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("ROLLBACK")
"""
