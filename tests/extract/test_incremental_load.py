"""Extract: raw equals the source, row by row, after every load; the watermark never runs ahead."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import duckdb
import pytest

import simulator
from crm_contract import source_table
from orchestration.incremental_load import land_table, load_table, merge_landed, read_watermark
from orchestration.source_reader import SourceContractError, SourceReader
from tests.support.raw_comparison import assert_raw_matches_source, load_all, raw_rows, source_rows


def test_first_load_copies_every_row_and_stamps_load_id_and_time(source, tmp_path):
    url, path = source
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        results = load_all(con, url, "run-1")
        assert_raw_matches_source(con, url)
        landed, merged = results["opportunities"]
        assert landed.rows_read == 300
        assert merged.rows_inserted == 300
        assert con.execute("SELECT DISTINCT _load_id FROM raw.opportunities").fetchall() == [("run-1",)]
        assert con.execute("SELECT count(*) FROM raw.opportunities WHERE _loaded_at IS NULL").fetchone()[0] == 0
        newest = con.execute("SELECT max(updated_at) FROM raw.opportunities").fetchone()[0]
        assert read_watermark(con, "opportunities") == newest


def test_incremental_runs_after_the_clock_advances_apply_inserts_updates_and_soft_deletes(source, tmp_path):
    url, path = source
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_all(con, url, "run-1")
        for day in range(2, 5):
            simulator.advance(url, days=1)
            results = load_all(con, url, f"run-{day}", lookback=timedelta(0))
            assert_raw_matches_source(con, url)
        # the last delta was read, not the whole history
        landed, merged = results["opportunities"]
        assert merged.mode == "incremental"
        assert 0 < landed.rows_read < 300
        assert merged.rows_inserted + merged.rows_updated == landed.rows_landed
        # soft deletes arrive as flags and stay in raw
        assert con.execute("SELECT count(*) FROM raw.activities WHERE is_deleted").fetchone()[0] > 0


def test_a_load_that_fails_midway_leaves_rows_and_watermark_as_they_were(source, tmp_path):
    url, path = source
    table = source_table("opportunities")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_table(con, SourceReader(url), table, load_id="run-1")
        watermark = read_watermark(con, "opportunities")
        before = raw_rows(con, "opportunities")
        simulator.advance(url, days=3)

        class FailsOnWatermarkWrite:
            """The rows are merged, then the process dies before the watermark is written."""

            def __getattr__(self, name):
                return getattr(con, name)

            def execute(self, sql, *args):
                if "_extract_state VALUES" in sql:
                    raise RuntimeError("killed before the watermark was written")
                return con.execute(sql, *args)

        with pytest.raises(RuntimeError, match="killed"):
            load_table(FailsOnWatermarkWrite(), SourceReader(url), table, load_id="run-2")
        assert read_watermark(con, "opportunities") == watermark
        assert raw_rows(con, "opportunities") == before
        # and the next run picks the delta up in full
        load_table(con, SourceReader(url), table, load_id="run-3")
        assert raw_rows(con, "opportunities") == source_rows(url, "opportunities")


def test_a_landed_batch_changes_neither_raw_nor_the_watermark_until_it_is_merged(source, tmp_path):
    url, path = source
    table = source_table("opportunities")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_table(con, SourceReader(url), table, load_id="run-1")
        watermark, before = read_watermark(con, "opportunities"), raw_rows(con, "opportunities")
        simulator.advance(url, days=3)
        landed = land_table(con, SourceReader(url), table, load_id="run-2")
        assert landed.rows_landed > 0
        assert (read_watermark(con, "opportunities"), raw_rows(con, "opportunities")) == (watermark, before)
        # a gate stopped the run; the next run lands the same delta again, then merges it
        land_table(con, SourceReader(url), table, load_id="run-3")
        (merged,) = merge_landed(con, [table])
        assert merged.load_id == "run-3"
        assert raw_rows(con, "opportunities") == source_rows(url, "opportunities")
        assert merge_landed(con, [table]) == []  # nothing left to merge: re-running the step is harmless


def test_full_refresh_detects_rows_hard_deleted_in_the_source(source, tmp_path):
    url, path = source
    table = source_table("customers")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_table(con, SourceReader(url), table, load_id="run-1")
        with sqlite3.connect(path) as src:
            src.execute("DELETE FROM customers WHERE customer_id IN (1, 2)")
        _, incremental = load_table(con, SourceReader(url), table, load_id="run-2")
        assert incremental.hard_deleted == 0  # a watermark cannot see a row that is gone
        _, refreshed = load_table(con, SourceReader(url), table, load_id="run-3", full_refresh=True)
        assert refreshed.mode == "full_refresh"
        assert refreshed.hard_deleted == 2
        assert con.execute("SELECT primary_key FROM raw._hard_deletes ORDER BY 1").fetchall() == [
            ("{'customer_id': 1}",),
            ("{'customer_id': 2}",),
        ]
        assert raw_rows(con, "customers") == source_rows(url, "customers")


def test_a_full_refresh_batch_is_written_once_and_renamed_into_raw_on_merge(source, tmp_path):
    url, path = source
    table = source_table("customers")

    def relations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str]]:
        return set(
            con.execute(
                "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                "WHERE table_name LIKE '%customers'"
            ).fetchall()
        )

    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_table(con, SourceReader(url), table, load_id="run-1")
        before = raw_rows(con, "customers")
        with sqlite3.connect(path) as src:
            src.execute("UPDATE customers SET name = 'renamed' WHERE customer_id = 3")
        # the gate sees the batch as landing.customers, a view of the table the merge will rename
        land_table(con, SourceReader(url), table, load_id="run-2", full_refresh=True)
        assert relations(con) == {
            ("raw", "customers", "BASE TABLE"),
            ("raw", "_landed_customers", "BASE TABLE"),
            ("landing", "customers", "VIEW"),
        }
        assert raw_rows(con, "customers") == before
        assert con.execute("SELECT name FROM landing.customers WHERE customer_id = 3").fetchone() == ("renamed",)
        # the gate stopped that run: the next run's batch (a delta) replaces the unmerged one, view and table
        land_table(con, SourceReader(url), table, load_id="run-3")
        assert relations(con) == {("raw", "customers", "BASE TABLE"), ("landing", "customers", "BASE TABLE")}
        # a full refresh merged: raw is the batch (landing.customers a view of it), nothing else is left
        land_table(con, SourceReader(url), table, load_id="run-4", full_refresh=True)
        (merged,) = merge_landed(con, [table])
        assert (merged.mode, merged.rows_updated) == ("full_refresh", len(before))
        assert relations(con) == {("raw", "customers", "BASE TABLE"), ("landing", "customers", "VIEW")}
        assert raw_rows(con, "customers") == source_rows(url, "customers")
        assert con.execute("SELECT DISTINCT _load_id FROM raw.customers").fetchall() == [("run-4",)]


def test_duplicate_source_rows_load_once_and_are_counted(source, tmp_path):
    url, path = source
    with sqlite3.connect(path) as src:
        src.execute("INSERT INTO opportunities SELECT * FROM opportunities WHERE opportunity_id <= 3")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        landed, _ = load_table(con, SourceReader(url), source_table("opportunities"), load_id="run-1")
        assert landed.duplicate_source_rows == 3
        assert con.execute("SELECT count(*) FROM raw.opportunities").fetchone()[0] == 300


def test_a_missing_contract_column_fails_naming_the_table_and_column(source, tmp_path):
    url, path = source
    with sqlite3.connect(path) as src:
        src.execute("ALTER TABLE payments DROP COLUMN method")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        with pytest.raises(SourceContractError, match=r"'payments' is missing contract column\(s\) \['method'\]"):
            load_table(con, SourceReader(url), source_table("payments"), load_id="run-1")


def test_sqlite_numeric_columns_with_nulls_and_whole_numbers_load_exactly(source, tmp_path):
    url, path = source
    with sqlite3.connect(path) as src:
        # SQLite keeps 5 as an INTEGER and 12.5 as a REAL in the same NUMERIC column; a null comes first
        src.execute("UPDATE payments SET amount = NULL WHERE payment_id = (SELECT min(payment_id) FROM payments)")
        src.execute("UPDATE payments SET amount = 5 WHERE payment_id = (SELECT max(payment_id) FROM payments)")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_table(con, SourceReader(url), source_table("payments"), load_id="run-1")
        amounts = con.execute(
            "SELECT amount FROM raw.payments WHERE payment_id IN ((SELECT min(payment_id) FROM raw.payments), "
            "(SELECT max(payment_id) FROM raw.payments)) ORDER BY payment_id"
        ).fetchall()
        assert [a for (a,) in amounts] == [None, 5]
        assert raw_rows(con, "payments") == source_rows(url, "payments")


def test_text_in_a_money_column_fails_naming_table_column_count_and_keys(source, tmp_path):
    url, path = source
    with sqlite3.connect(path) as src:
        src.execute(
            "UPDATE contracts SET amount = 'about 5k' WHERE contract_id IN (SELECT contract_id FROM contracts LIMIT 2)"
        )
        broken = [k for (k,) in src.execute("SELECT contract_id FROM contracts WHERE typeof(amount) = 'text'")]
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        with pytest.raises(
            SourceContractError, match=r"'contracts', column 'amount': 2 value\(s\) are not numbers"
        ) as e:
            load_table(con, SourceReader(url), source_table("contracts"), load_id="run-1")
    assert all(f"contract_id={key}" in str(e.value) for key in broken), str(e.value)


def test_a_row_without_its_key_stops_the_load_naming_table_and_key_column(source, tmp_path):
    url, path = source
    with sqlite3.connect(path) as src:
        src.execute("UPDATE opportunities SET opportunity_id = NULL WHERE opportunity_id = 7")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        with pytest.raises(
            SourceContractError,
            match=r"^source table 'opportunities': 1 row\(s\) with a null primary key \['opportunity_id'\]",
        ):
            load_table(con, SourceReader(url), source_table("opportunities"), load_id="run-1")
        assert read_watermark(con, "opportunities") is None  # nothing merged


def test_quotes_emoji_and_sql_in_text_reach_raw_as_written(source, tmp_path):
    """Values are never spliced into SQL: a name that looks like SQL is only a name."""
    url, path = source
    name = "O'Brien \"Ltd\" 🚀 北京'); DROP TABLE raw.customers; --"
    with sqlite3.connect(path) as src:
        src.execute("UPDATE customers SET name = ? WHERE customer_id = 3", [name])
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load_table(con, SourceReader(url), source_table("customers"), load_id="run-1")
        assert con.execute("SELECT name FROM raw.customers WHERE customer_id = 3").fetchone() == (name,)
        assert raw_rows(con, "customers") == source_rows(url, "customers")
