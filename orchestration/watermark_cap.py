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

Times in the source's own clock: the contract's updated_at is UTC, but 悟空CRM writes local times without a zone
(CRM_SOURCE_TIMEZONE), and raw keeps them so. For such a source both instants are turned into that local wall
time before they are compared with the rows (the end of the as-of date at midnight UTC is 08:00 the next
morning in Asia/Shanghai), so the cap is the same instant for every source, and a row written at 10:00 Beijing
time on the as-of date is not taken for a row ahead of the clock.

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
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_contract import SourceTable
from orchestration.raw_schema import watermark_label, watermark_sql

# How many rows beyond the cap a warning names; the count covers them all.
ROWS_NAMED = 5


@dataclass(frozen=True)
class WatermarkCap:
    """The latest instant a watermark may hold after merging one batch, and what sets it."""

    at: datetime  # naive, in the source's clock: UTC, or `timezone`'s local time
    # Set by the as-of date's end, where gate 1's bound is strict (a row stamped at the end itself is after the
    # as-of date); otherwise by the clock, and a row stamped at the very instant the batch was read is not ahead.
    by_as_of_date: bool
    timezone: str | None = None  # the source's local time zone (CRM_SOURCE_TIMEZONE); None: the source writes UTC

    @classmethod
    def of_batch(cls, *, read_at: datetime, as_of_end: datetime | None, timezone: str | None = None) -> WatermarkCap:
        """The cap of a batch read at `read_at` (naive UTC), for a run whose as-of date ends at `as_of_end` (naive
        UTC), in the clock of a source writing `timezone`'s local time (None: UTC)."""
        if as_of_end is not None and as_of_end <= read_at:
            return cls(in_source_clock(as_of_end, timezone), by_as_of_date=True, timezone=timezone)
        return cls(in_source_clock(read_at, timezone), by_as_of_date=False, timezone=timezone)

    @property
    def set_by(self) -> str:
        if self.by_as_of_date:
            if self.timezone is not None:
                return (
                    f"the end of the as-of date (CRM_AS_OF_DATE; midnight UTC after it), in the source's local "
                    f"time {self.timezone} (CRM_SOURCE_TIMEZONE; gate 1 reports the same rows as "
                    "update_time_not_after_as_of or create_time_not_after_as_of)"
                )
            return (
                f"the end of the as-of date {(self.at - timedelta(days=1)).date()} (CRM_AS_OF_DATE; gate 1 "
                "reports the same rows as updated_at_not_after_as_of)"
            )
        if self.timezone is not None:
            return f"the extract's clock when the batch was read, in the source's local time {self.timezone}"
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
    # The key columns and watermark of the first ROWS_NAMED rows, furthest ahead first.
    first: list[dict[str, object]]
    watermark: str = "updated_at"  # how the rows' watermark is named (raw_schema.watermark_label)

    def warning(self, table: str) -> str:
        named = "; ".join(
            "{" + ", ".join(f"{k!r}: {v!r}" for k, v in row.items() if k != self.watermark) + "}"
            f" {self.watermark} {row[self.watermark]}"
            for row in self.first
        )
        more = f" and {self.rows - len(self.first)} more" if self.rows > len(self.first) else ""
        fix = ", or move CRM_AS_OF_DATE forward if it is pinned in the past" if self.cap.by_as_of_date else ""
        return (
            f"{table}: {self.rows} row(s) updated after {self.cap.at}, {self.cap.set_by}: {named}{more}. "
            f"Loaded, but the watermark stops at {self.cap.at} (rule: a watermark never passes the end of the as-of "
            "date nor the extract's clock), so these rows are read again every run and a later correction is "
            f"picked up. Fix their {self.watermark} in the CRM database{fix}."
        )


def in_source_clock(instant: datetime, timezone: str | None) -> datetime:
    """A naive UTC instant as the source's clock shows it: itself for a UTC source, else the local wall time."""
    if timezone is None:
        return instant
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def capped_watermark(
    table: SourceTable,
    batch: str,
    *,
    batch_max: datetime | None,
    old_watermark: datetime | None,
    read_at: datetime,
    as_of_end: datetime | None,
    fetch: Callable[[str], list[tuple]],
    source_timezone: str | None = None,
) -> tuple[datetime | None, RowsBeyondCap | None]:
    """The watermark a merge writes, and the rows of `batch` beyond its cap.

    The newest of the batch's newest updated_at and `old_watermark` (a delta's batch may be older than the
    watermark: a look-back re-read; None on a full refresh, which starts over), held at the cap. A watermark
    written beyond the cap before the cap existed is lowered to it. `fetch` runs a query on the warehouse that
    holds `batch` (the SQL is in both DuckDB's and Postgres's dialect); the batch is searched only when its
    newest row is beyond the cap, so a normal merge costs nothing more.
    """
    cap = WatermarkCap.of_batch(read_at=read_at, as_of_end=as_of_end, timezone=source_timezone)
    newest = max((w for w in (batch_max, old_watermark) if w is not None), default=None)
    beyond = _rows_beyond(table, batch, cap, fetch) if cap.is_passed_by(batch_max) else None
    return cap.limit(newest), beyond


def _rows_beyond(
    table: SourceTable, batch: str, cap: WatermarkCap, fetch: Callable[[str], list[tuple]]
) -> RowsBeyondCap:
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    watermark = watermark_sql(table)
    # A literal, not a parameter: the two engines mark parameters differently; the value is a datetime, never text.
    after = f"{'>=' if cap.by_as_of_date else '>'} TIMESTAMP '{cap.at:%Y-%m-%d %H:%M:%S.%f}'"
    rows = fetch(
        f"SELECT {keys}, {watermark}, count(*) OVER () FROM {batch} WHERE {watermark} {after} "
        f"ORDER BY {watermark} DESC, {keys} LIMIT {ROWS_NAMED}"
    )
    first = [{**dict(zip(table.primary_key, row[:-2])), watermark_label(table): row[-2]} for row in rows]
    return RowsBeyondCap(cap, rows=rows[0][-1], first=first, watermark=watermark_label(table))
