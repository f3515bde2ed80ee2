"""A row dated in the future is loaded, but never carries a table's watermark past the end of the as-of date
nor the extract's clock: its later correction is read by the next run (issue 21 §2). On DuckDB and Postgres."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crm_contract import source_table
from orchestration.incremental_load import utc_now
from orchestration.source_reader import SourceReader
from orchestration.watermark_cap import RowsBeyondCap, WatermarkCap
from tests.support.raw_engines import duckdb_engine

OPPORTUNITIES = source_table("opportunities")
AS_OF_END = datetime(2026, 7, 1)  # the source's clock ends on 2026-06-30 (tests/extract/conftest.py)
A_YEAR_AHEAD = datetime(2027, 6, 30, 10, 0)
NEXT_MORNING = datetime(2026, 7, 1, 9, 0)


def date_open_opportunity(path: Path, *, created_at: datetime, updated_at: datetime) -> int:
    """Stamp the first open opportunity (no closed_at for a future created_at to contradict); its id."""
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    with sqlite3.connect(path) as src:
        (opportunity_id,) = src.execute(
            "SELECT min(opportunity_id) FROM opportunities WHERE closed_at IS NULL"
        ).fetchone()
        src.execute(
            "UPDATE opportunities SET created_at = ?, updated_at = ? WHERE opportunity_id = ?",
            [created_at.strftime(stamp), updated_at.strftime(stamp), opportunity_id],
        )
    return opportunity_id


def dated(rows: list[tuple], opportunity_id: int) -> datetime:
    """updated_at (the contract's last column) of one opportunity in raw."""
    (row,) = [row for row in rows if row[0] == opportunity_id]
    return row[-1]


def test_a_future_row_is_loaded_but_the_watermark_stops_at_the_end_of_the_as_of_date(raw_engine, source):
    url, path = source
    future = date_open_opportunity(path, created_at=A_YEAR_AHEAD, updated_at=A_YEAR_AHEAD)
    _, merged = raw_engine.load(SourceReader(url), OPPORTUNITIES, load_id="run-1", as_of_end=AS_OF_END)
    assert merged.watermark_after == raw_engine.watermark("opportunities") == AS_OF_END
    assert dated(raw_engine.rows("opportunities"), future) == A_YEAR_AHEAD  # loaded, not held back
    assert merged.rows_beyond_watermark_cap == RowsBeyondCap(
        WatermarkCap(AS_OF_END, by_as_of_date=True),
        rows=1,
        first=[{"opportunity_id": future, "updated_at": A_YEAR_AHEAD}],
    )


def test_the_corrected_row_is_read_the_next_day_and_raw_equals_a_fresh_full_load(raw_engine, source, tmp_path):
    url, path = source
    date_open_opportunity(path, created_at=A_YEAR_AHEAD, updated_at=A_YEAR_AHEAD)
    raw_engine.load(SourceReader(url), OPPORTUNITIES, load_id="run-1", as_of_end=AS_OF_END)
    corrected = date_open_opportunity(path, created_at=datetime(2026, 6, 1), updated_at=NEXT_MORNING)

    landed, merged = raw_engine.load(
        SourceReader(url),
        OPPORTUNITIES,
        load_id="run-2",
        as_of_end=AS_OF_END + timedelta(days=1),
        lookback=timedelta(0),
    )
    assert landed.rows_read == 1  # before the cap: "read 0 rows" here, for good
    assert dated(raw_engine.rows("opportunities"), corrected) == NEXT_MORNING
    assert (merged.watermark_after, merged.rows_beyond_watermark_cap) == (NEXT_MORNING, None)
    fresh = duckdb_engine(tmp_path / "fresh.duckdb")
    fresh.load(SourceReader(url), OPPORTUNITIES, load_id="fresh")
    assert raw_engine.rows("opportunities") == fresh.rows("opportunities")


@pytest.mark.parametrize(
    "as_of_end", [None, datetime(2030, 1, 1)], ids=["no as-of date", "as-of date ahead of the clock"]
)
def test_a_future_row_never_carries_the_watermark_past_the_extracts_clock(raw_engine, source, as_of_end):
    url, path = source
    future = date_open_opportunity(path, created_at=A_YEAR_AHEAD, updated_at=A_YEAR_AHEAD)
    before = utc_now()
    _, merged = raw_engine.load(SourceReader(url), OPPORTUNITIES, load_id="run-1", as_of_end=as_of_end)
    assert before <= merged.watermark_after <= utc_now()
    beyond = merged.rows_beyond_watermark_cap
    assert (beyond.cap.at, beyond.cap.by_as_of_date, beyond.rows) == (merged.watermark_after, False, 1)
    assert beyond.first == [{"opportunity_id": future, "updated_at": A_YEAR_AHEAD}]


def test_rows_are_beyond_the_as_of_end_as_gate_1_judges_them_and_beyond_the_clock_only_after_it():
    read_at = datetime(2026, 7, 5, 8, 0)
    by_as_of = WatermarkCap.of_batch(read_at=read_at, as_of_end=AS_OF_END)
    assert by_as_of == WatermarkCap(AS_OF_END, by_as_of_date=True)
    # gate 1's updated_at_not_after_as_of is strict: a row stamped at the as-of end itself is after the as-of date
    assert by_as_of.is_passed_by(AS_OF_END) and not by_as_of.is_passed_by(AS_OF_END - timedelta(microseconds=1))
    by_clock = WatermarkCap.of_batch(read_at=read_at, as_of_end=None)
    assert by_clock == WatermarkCap(read_at, by_as_of_date=False)
    assert by_clock.is_passed_by(read_at + timedelta(microseconds=1)) and not by_clock.is_passed_by(read_at)
    assert by_clock.limit(None) is None and by_clock.limit(A_YEAR_AHEAD) == read_at


def test_the_warning_names_the_table_the_rows_keys_their_updated_at_and_the_rule():
    beyond = RowsBeyondCap(
        WatermarkCap(AS_OF_END, by_as_of_date=True),
        rows=7,
        first=[
            {"opportunity_product_id": 3, "product_id": 9, "updated_at": A_YEAR_AHEAD},
            {"opportunity_product_id": 1, "product_id": 2, "updated_at": NEXT_MORNING},
        ],
    )
    assert beyond.warning("opportunity_products") == (
        "opportunity_products: 7 row(s) updated after 2026-07-01 00:00:00, the end of the as-of date 2026-06-30 "
        "(CRM_AS_OF_DATE; gate 1 reports the same rows as updated_at_not_after_as_of): "
        "{'opportunity_product_id': 3, 'product_id': 9} updated_at 2027-06-30 10:00:00; "
        "{'opportunity_product_id': 1, 'product_id': 2} updated_at 2026-07-01 09:00:00 and 5 more. "
        "Loaded, but the watermark stops at 2026-07-01 00:00:00 (rule: a watermark never passes the end of the "
        "as-of date nor the extract's clock), so these rows are read again every run and a later correction is "
        "picked up. Fix their updated_at in the CRM database, or move CRM_AS_OF_DATE forward if it is pinned in "
        "the past."
    )
