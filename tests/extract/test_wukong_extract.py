"""The extract on 悟空CRM's tables: raw named and typed as the source tables, incremental on each table's declared
watermark (coalesce(update_time, create_time), or create_time), whole reads as full refreshes that record hard
deletes, and the watermark's cap compared in the CRM's local time."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from crm_contract import source_table as contract_table
from crm_wukong import SOURCE_TABLES, source_table
from orchestration.file_reader import FileReader, NothingDropped
from orchestration.incremental_load import HARD_DELETES_TABLE, load_table, read_watermark
from orchestration.source_reader import SourceReader
from tests.support.wukong_db import FIRST_CREATED, create_wukong_database, execute, insert_rows, wukong_rows

BUSINESS = source_table("wk_crm_business")
CHANGES = source_table("wk_crm_business_change")
PRODUCT_LINES = source_table("wk_crm_business_product")
SHANGHAI = "Asia/Shanghai"


@pytest.fixture()
def wukong(tmp_path: Path) -> str:
    return create_wukong_database(tmp_path / "wukong.sqlite")


def load(con: duckdb.DuckDBPyConnection, url: str, table, load_id: str, **options):
    return load_table(con, SourceReader(url), table, load_id=load_id, source_timezone=SHANGHAI, **options)


def test_every_wukong_table_lands_in_raw_under_its_own_name_typed_as_declared(wukong, warehouse):
    for table in SOURCE_TABLES:
        landed, merged = load(warehouse, wukong, table, "run-1")
        assert (landed.rows_read, merged.rows_inserted) == (12, 12), table.name
    assert warehouse.execute(
        "select business_id, money, is_end, create_time, update_time from raw.wk_crm_business "
        "where business_id in (1, 2) order by 1"
    ).fetchall() == [
        (1, pytest.approx(100.5), 1, FIRST_CREATED + timedelta(hours=1), None),
        (2, pytest.approx(200.5), 2, FIRST_CREATED + timedelta(hours=2), FIRST_CREATED + timedelta(hours=2, days=1)),
    ]
    types = dict(
        warehouse.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'wk_crm_contract'"
        ).fetchall()
    )
    assert (types["money"], types["check_status"], types["num"], types["order_date"], types["_load_id"]) == (
        "DECIMAL(18,2)",
        "BIGINT",
        "VARCHAR",
        "TIMESTAMP",
        "VARCHAR",
    )


def test_an_edited_table_is_read_on_update_time_and_on_create_time_while_never_edited(wukong, warehouse):
    load(warehouse, wukong, BUSINESS, "run-1")
    # the newest row: business 12, edited a day after it was created (even rows are edited, odd are not)
    newest = FIRST_CREATED + timedelta(hours=12, days=1)
    assert read_watermark(warehouse, BUSINESS.name) == newest
    later = newest + timedelta(hours=5)
    # business 3 is edited now; business 13 is new and never edited (update_time null, create_time after the
    # watermark); business 5, never edited and created long before the watermark, stays as it is
    execute(wukong, "update wk_crm_business set money = 999, update_time = :t where business_id = 3", t=later)
    new_row = {**wukong_rows(13)["wk_crm_business"][-1], "create_time": later, "update_time": None}
    insert_rows(wukong, {"wk_crm_business": [new_row]})

    landed, merged = load(warehouse, wukong, BUSINESS, "run-2", lookback=timedelta(0))

    # read: business 3 and 13, and business 12, stamped at the watermark itself (the read is inclusive)
    assert (landed.mode, landed.read_since, landed.rows_read) == ("incremental", newest, 3)
    assert (merged.rows_inserted, merged.rows_updated) == (1, 2)
    assert warehouse.execute(
        "select business_id, money, _load_id from raw.wk_crm_business where business_id in (3, 5, 13) order by 1"
    ).fetchall() == [(3, 999, "run-2"), (5, pytest.approx(500.5), "run-1"), (13, pytest.approx(1300.5), "run-2")]
    assert read_watermark(warehouse, BUSINESS.name) == later


def test_the_lookback_is_a_span_of_the_crms_own_clock(wukong, warehouse):
    load(warehouse, wukong, BUSINESS, "run-1")
    landed, _ = load(warehouse, wukong, BUSINESS, "run-2", lookback=timedelta(hours=3))
    # the read starts 3 hours before the watermark as the CRM wrote it (local time), never shifted to UTC: the
    # rows edited since then are business 10 and 12 (edited a day after they were created, 2 hours apart)
    assert landed.read_since == FIRST_CREATED + timedelta(hours=12, days=1) - timedelta(hours=3)
    assert landed.rows_read == 2


def test_an_append_only_table_is_read_on_create_time(wukong, warehouse):
    load(warehouse, wukong, CHANGES, "run-1")
    assert read_watermark(warehouse, CHANGES.name) == FIRST_CREATED + timedelta(hours=12)
    new_change = {**wukong_rows(13)["wk_crm_business_change"][-1]}
    insert_rows(wukong, {"wk_crm_business_change": [new_change]})

    landed, merged = load(warehouse, wukong, CHANGES, "run-2", lookback=timedelta(0))

    # read: the new change, and change 12, stamped at the watermark itself (the read is inclusive)
    assert (landed.mode, landed.rows_read, merged.rows_inserted, merged.rows_updated) == ("incremental", 2, 1, 1)
    assert read_watermark(warehouse, CHANGES.name) == FIRST_CREATED + timedelta(hours=13)


def test_a_table_read_whole_loses_a_hard_deleted_row_and_records_it(wukong, warehouse):
    load(warehouse, wukong, PRODUCT_LINES, "run-1")
    # 悟空CRM deletes an opportunity's product lines and inserts them again on every edit of the opportunity
    execute(wukong, "delete from wk_crm_business_product where r_id = 4")

    landed, merged = load(warehouse, wukong, PRODUCT_LINES, "run-2")

    assert (landed.mode, landed.rows_read, merged.hard_deleted) == ("full_refresh", 11, 1)
    assert warehouse.execute("select count(*) from raw.wk_crm_business_product where r_id = 4").fetchone()[0] == 0
    assert warehouse.execute(
        f"select primary_key, load_id from {HARD_DELETES_TABLE} where table_name = 'wk_crm_business_product'"
    ).fetchall() == [("{'r_id': 4}", "run-2")]
    assert read_watermark(warehouse, PRODUCT_LINES.name) is None


def test_the_watermark_cap_compares_the_as_of_end_in_the_crms_local_time(wukong, warehouse):
    # The as-of date 2026-06-30 ends at midnight UTC, 08:00 on 1 July in Shanghai. A business edited at 07:00 local
    # on 1 July was edited on the as-of date (23:00 UTC): it moves the watermark. One edited at 09:00 local is after.
    as_of_end = datetime(2026, 7, 1)
    execute(wukong, "update wk_crm_business set update_time = :t where business_id = 2", t=datetime(2026, 7, 1, 7))
    _, merged = load(warehouse, wukong, BUSINESS, "run-1", as_of_end=as_of_end)
    assert (merged.watermark_after, merged.rows_beyond_watermark_cap) == (datetime(2026, 7, 1, 7), None)

    execute(wukong, "update wk_crm_business set update_time = :t where business_id = 4", t=datetime(2026, 7, 1, 9))
    _, merged = load(warehouse, wukong, BUSINESS, "run-2", as_of_end=as_of_end)

    assert merged.watermark_after == datetime(2026, 7, 1, 8)
    beyond = merged.rows_beyond_watermark_cap
    assert beyond.first == [{"business_id": 4, "coalesce(update_time, create_time)": datetime(2026, 7, 1, 9)}]
    assert "in the source's local time Asia/Shanghai (CRM_SOURCE_TIMEZONE; gate 1" in beyond.warning(BUSINESS.name)
    # compared in UTC instead, the 07:00 edit would have been taken for one after the as-of date
    _, in_utc = load_table(
        warehouse, SourceReader(wukong), BUSINESS, load_id="run-3", as_of_end=as_of_end, full_refresh=True
    )
    assert in_utc.watermark_after == as_of_end and in_utc.rows_beyond_watermark_cap.rows == 2


def test_the_clock_cap_is_the_crms_local_now_not_utc(wukong, warehouse):
    # An edit an hour ago in Shanghai is 7 hours ahead of the extract's UTC clock, and still not in the future.
    shanghai_now = datetime.now(ZoneInfo(SHANGHAI)).replace(tzinfo=None)
    an_hour_ago = shanghai_now - timedelta(hours=1)
    execute(wukong, "update wk_crm_business set update_time = :t where business_id = 2", t=an_hour_ago)
    _, merged = load(warehouse, wukong, BUSINESS, "run-1")
    assert (merged.watermark_after, merged.rows_beyond_watermark_cap) == (an_hour_ago, None)


def test_without_the_sqlite_scanner_connectorx_reads_the_same_delta(wukong, warehouse, monkeypatch, tmp_path):
    load(warehouse, wukong, BUSINESS, "run-1")
    execute(wukong, "update wk_crm_business set update_time = :t where business_id = 3", t=datetime(2026, 6, 20))
    scanned, _ = load(warehouse, wukong, BUSINESS, "run-2", lookback=timedelta(0))
    monkeypatch.setitem(sys.modules, "duckdb_extension_sqlite_scanner", None)  # as on a machine without the wheel
    with duckdb.connect(str(tmp_path / "other.duckdb")) as other:
        load(other, wukong, BUSINESS, "run-1")
        execute(wukong, "update wk_crm_business set money = 7 where business_id = 3")
        read, _ = load(other, wukong, BUSINESS, "run-2", lookback=timedelta(0))
        # the scanner read business 3 and 12 (at the old watermark); connectorx business 3 (at its watermark)
        assert (read.rows_read, scanned.rows_read) == (1, 2)
        assert other.execute("select money from raw.wk_crm_business where business_id = 3").fetchone()[0] == 7


def test_a_wukong_mariadb_is_read_with_the_same_watermarks(mariadb, warehouse):
    """悟空CRM runs on MySQL: read through PyMySQL's URL and connectorx, the delta filtered by MariaDB itself."""
    url = create_wukong_database(mariadb.url(mariadb.create_database()))
    assert url.startswith("mysql+pymysql://")
    for table in (BUSINESS, CHANGES, PRODUCT_LINES):
        load(warehouse, url, table, "run-1")
    execute(
        url, "update wk_crm_business set money = 7, update_time = :t where business_id = 5", t=datetime(2026, 6, 20)
    )
    execute(url, "delete from wk_crm_business_product where r_id = 4")
    (business, _), (lines, merged_lines) = (
        load(warehouse, url, t, "run-2", lookback=timedelta(0)) for t in (BUSINESS, PRODUCT_LINES)
    )
    assert (business.mode, business.rows_read) == ("incremental", 2)  # business 5, and 12 at the watermark
    assert (lines.mode, merged_lines.hard_deleted) == ("full_refresh", 1)
    assert warehouse.execute("select money, update_time from raw.wk_crm_business where business_id = 5").fetchone() == (
        7,
        datetime(2026, 6, 20),
    )


def test_a_file_drop_table_without_its_file_is_in_raw_empty_on_either_warehouse(raw_engine):
    """Beside 悟空CRM, fx_rates comes only from dropped files: without one, raw still has the table dbt reads."""
    fx_rates = contract_table("fx_rates")
    for run in ("run-1", "run-2"):
        landed, merged = raw_engine.load(NothingDropped(), fx_rates, load_id=run)
        assert (landed.rows_read, merged.rows_inserted, merged.hard_deleted) == (0, 0, 0)
    assert raw_engine.rows("fx_rates") == [] and raw_engine.watermark("fx_rates") is None


def test_a_run_without_a_file_keeps_the_rows_the_last_dropped_file_brought(warehouse, tmp_path):
    fx_rates = contract_table("fx_rates")
    dropped = tmp_path / "fx_rates.csv"
    dropped.write_text("currency,rate_date,rate_to_reporting,updated_at\nUSD,2026-06-30,7.1,2026-06-30 08:00:00\n")
    load_table(warehouse, FileReader(dropped), fx_rates, load_id="with-file")
    _, merged = load_table(warehouse, NothingDropped(), fx_rates, load_id="without")
    assert merged.mode == "file" and merged.rows_updated == 0
    assert warehouse.execute("select currency, _load_id from raw.fx_rates").fetchall() == [("USD", "with-file")]
