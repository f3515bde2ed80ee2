"""The ceiling a table's watermark never passes, and the rows of a batch that lie beyond it.

Why: a merge moves a table's watermark to the newest updated_at it loaded, and the next run reads only the
rows updated at or after it (minus the look-back). One row dated in the future (a typo, a CRM server whose
clock is a year ahead) used to carry the watermark there: every later change, its own correction included,
was older than the watermark and was never read again. The table stopped loading, silently, until a full
refresh.

The rule: after a merge, a table's watermark is at most the cap, the earlier of
- the end of the as-of date (the first instant after CRM_AS_OF_DATE, or after today when it is unset): the
  bound gate 1's `updated_at_not_after_as_of` judges rows by, so both name the same rows;
- the extract's own clock (UTC) when the batch was read: no row can have been updated after it.

The rows beyond the cap are loaded, like any other row: nothing the source holds is lost or hidden from the
gates and dbt, and raw still equals the source. Only the watermark stops at the cap, so those rows stay
inside the next read window and are read again every run until the cap passes them; a correction of such a
row, with a current updated_at, is read by the next run. Holding them back instead would make raw differ from
the source with no trace in the marts, and, with an as-of date pinned in the past, would hold back every row
after it. The price is that re-read: a handful of rows for a typo; every row after the as-of date when it is
pinned in the past. Each merge names them (how many, and the key and updated_at of the first few, furthest
ahead first); the raw asset logs that as a WARNING and puts it in its metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_contract import SourceTable

# How many rows beyond the cap a warning names; the count covers them all.
ROWS_NAMED = 5


@dataclass(frozen=True)
class WatermarkCap:
    """The latest instant a watermark may hold after merging one batch, and what sets it."""

    at: datetime
    # Set by the as-of date's end, where gate 1's bound is strict (a row stamped at the end itself is after the
    # as-of date); otherwise by the clock, and a row stamped at the very instant the batch was read is not ahead.
    by_as_of_date: bool

    @classmethod
    def of_batch(cls, *, read_at: datetime, as_of_end: datetime | None) -> WatermarkCap:
        """The cap of a batch read at `read_at` (naive UTC), for a run whose as-of date ends at `as_of_end`."""
        if as_of_end is not None and as_of_end <= read_at:
            return cls(as_of_end, by_as_of_date=True)
        return cls(read_at, by_as_of_date=False)

    @property
    def set_by(self) -> str:
        if self.by_as_of_date:
            return (
                f"the end of the as-of date {(self.at - timedelta(days=1)).date()} (CRM_AS_OF_DATE; gate 1 "
                "reports the same rows as updated_at_not_after_as_of)"
            )
        return "the extract's clock (UTC) when the batch was read"

    def limit(self, watermark: datetime | None) -> datetime | None:
        return None if watermark is None else min(watermark, self.at)

    def is_passed_by(self, updated_at: datetime | None) -> bool:
        return updated_at is not None and (updated_at >= self.at if self.by_as_of_date else updated_at > self.at)


@dataclass(frozen=True)
class RowsBeyondCap:
    """A batch's rows updated after its watermark cap: loaded, but the watermark stops at the cap."""

    cap: WatermarkCap
    rows: int
    # The key columns and updated_at of the first ROWS_NAMED rows, furthest ahead first.
    first: list[dict[str, object]]

    def warning(self, table: str) -> str:
        named = "; ".join(
            "{" + ", ".join(f"{k!r}: {v!r}" for k, v in row.items() if k != "updated_at") + "}"
            f" updated_at {row['updated_at']}"
            for row in self.first
        )
        more = f" and {self.rows - len(self.first)} more" if self.rows > len(self.first) else ""
        fix = ", or move CRM_AS_OF_DATE forward if it is pinned in the past" if self.cap.by_as_of_date else ""
        return (
            f"{table}: {self.rows} row(s) updated after {self.cap.at}, {self.cap.set_by}: {named}{more}. "
            f"Loaded, but the watermark stops at {self.cap.at} (rule: a watermark never passes the end of the as-of "
            "date nor the extract's clock), so these rows are read again every run and a later correction is "
            f"picked up. Fix their updated_at in the CRM database{fix}."
        )


def capped_watermark(
    table: SourceTable,
    batch: str,
    *,
    batch_max: datetime | None,
    old_watermark: datetime | None,
    read_at: datetime,
    as_of_end: datetime | None,
    fetch: Callable[[str], list[tuple]],
) -> tuple[datetime | None, RowsBeyondCap | None]:
    """The watermark a merge writes, and the rows of `batch` beyond its cap.

    The newest of the batch's newest updated_at and `old_watermark` (a delta's batch may be older than the
    watermark: a look-back re-read; None on a full refresh, which starts over), held at the cap. A watermark
    written beyond the cap before the cap existed is lowered to it. `fetch` runs a query on the warehouse that
    holds `batch` (the SQL is in both DuckDB's and Postgres's dialect); the batch is searched only when its
    newest row is beyond the cap, so a normal merge costs nothing more.
    """
    cap = WatermarkCap.of_batch(read_at=read_at, as_of_end=as_of_end)
    newest = max((w for w in (batch_max, old_watermark) if w is not None), default=None)
    beyond = _rows_beyond(table, batch, cap, fetch) if cap.is_passed_by(batch_max) else None
    return cap.limit(newest), beyond


def _rows_beyond(
    table: SourceTable, batch: str, cap: WatermarkCap, fetch: Callable[[str], list[tuple]]
) -> RowsBeyondCap:
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    # A literal, not a parameter: the two engines mark parameters differently; the value is a datetime, never text.
    after = f"{'>=' if cap.by_as_of_date else '>'} TIMESTAMP '{cap.at:%Y-%m-%d %H:%M:%S.%f}'"
    rows = fetch(
        f"SELECT {keys}, updated_at, count(*) OVER () FROM {batch} WHERE updated_at {after} "
        f"ORDER BY updated_at DESC, {keys} LIMIT {ROWS_NAMED}"
    )
    first = [{**dict(zip(table.primary_key, row[:-2])), "updated_at": row[-2]} for row in rows]
    return RowsBeyondCap(cap, rows=rows[0][-1], first=first)
