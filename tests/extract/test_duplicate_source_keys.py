"""Copies of one source key with the same updated_at: every load keeps the same copy, on DuckDB and Postgres,
whatever order the source returns them in (issue 21 §2: the kept copy used to follow the source's row order)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from crm_contract import source_table
from orchestration.source_reader import SourceReader

OPPORTUNITIES = source_table("opportunities")
DUPLICATED_ID = 5


def copy_with_amount(path: Path, amount: int) -> None:
    """A second copy of DUPLICATED_ID: the same updated_at and every other value, another amount."""
    with sqlite3.connect(path) as src:
        src.execute("INSERT INTO opportunities SELECT * FROM opportunities WHERE opportunity_id = ?", [DUPLICATED_ID])
        src.execute(
            "UPDATE opportunities SET amount = ? WHERE rowid = (SELECT max(rowid) FROM opportunities)", [amount]
        )


def move_first_copy_last(path: Path) -> None:
    """Reverse the copies' physical order, which is the order SQLite returns them in."""
    with sqlite3.connect(path) as src:
        first = "(SELECT min(rowid) FROM opportunities WHERE opportunity_id = ?)"
        src.execute(f"CREATE TEMP TABLE moved AS SELECT * FROM opportunities WHERE rowid = {first}", [DUPLICATED_ID])
        src.execute(f"DELETE FROM opportunities WHERE rowid = {first}", [DUPLICATED_ID])
        src.execute("INSERT INTO opportunities SELECT * FROM moved")


def test_copies_of_a_key_with_the_same_updated_at_keep_the_same_copy_in_every_load(raw_engine, source):
    url, path = source
    copy_with_amount(path, 1)
    amount = OPPORTUNITIES.column_names.index("amount")
    kept = []
    for load in range(4):
        landed, _ = raw_engine.load(SourceReader(url), OPPORTUNITIES, load_id=f"run-{load}", full_refresh=True)
        assert landed.duplicate_source_rows == 1
        (row,) = [row for row in raw_engine.rows("opportunities") if row[0] == DUPLICATED_ID]
        kept.append(row[amount])
        move_first_copy_last(path)
    # the documented choice: the copy whose values sort first, column by column (amount is the first that differs)
    assert kept == [Decimal("1.00")] * 4
