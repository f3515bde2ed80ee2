"""Land a batch of source rows, then merge landed batches into the raw schema with a high-watermark.

Two steps, so that the quality gate can look at a batch before it touches anything:
- land: the rows changed since the table's watermark are read, cast to the contract's types and written
  to `landing.<table>` (one row per key). Raw tables and watermarks are not touched.
- merge: every landed batch is merged into `raw.<table>` on the primary key and the watermarks advance,
  all in one transaction, so a watermark never runs ahead of loaded data. A batch that is never merged
  (the gate stopped the run) is simply read again by the next run. A watermark never passes the end of the
  as-of date nor the extract's clock: a row dated beyond them is loaded, the watermark stops at the cap so a
  later correction is still read, and the merge names the row (orchestration/watermark_cap.py says why).

Invariants the rest of the pipeline relies on: one row per primary key in every raw table; every row
carries the id and time of the load that wrote it; copies of a key in one batch always keep the same copy
(typed_batch_query); a full refresh replaces the table and records the keys
that vanished from the source (hard deletes) in `raw._hard_deletes`. Its batch is written once, as
`raw._landed_<table>` with `landing.<table>` a view of it, and renamed to `raw.<table>` on merge: DuckDB cannot
move a table between schemas, and copying 19M rows cost 3.5 s. A dropped file's batch (mode "file",
orchestration/file_drops.py) merges like a delta, but never moves the watermark (it says nothing about how far
the database has been read) and never replaces a row raw holds in a newer version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

import duckdb

from crm_contract import SourceTable
from orchestration.crash_points import crash_point
from orchestration.disk_space import is_disk_full
from orchestration.raw_schema import (
    LOAD_ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    duckdb_type,
    raw_table_ddl,
    watermark_sql,
)
from orchestration.source_reader import BATCH_RELATION, BatchReader, SourceContractError
from orchestration.warehouse_sql import DuckDBSession, duckdb_key_text
from orchestration.watermark_cap import RowsBeyondCap, capped_watermark

LANDING_SCHEMA = "landing"
BATCHES_TABLE = f"{LANDING_SCHEMA}._batches"
# Where a full refresh's batch is written, in the raw schema so that the merge can rename it into place.
FULL_REFRESH_BATCH_PREFIX = "_landed_"
EXTRACT_STATE_TABLE = f"{RAW_SCHEMA}._extract_state"
HARD_DELETES_TABLE = f"{RAW_SCHEMA}._hard_deletes"

# "file": a dropped export (orchestration/file_drops.py), merged like a delta without moving the watermark.
Mode = Literal["incremental", "full_refresh", "file"]


@dataclass(frozen=True)
class LandResult:
    table: str
    load_id: str
    mode: Mode
    rows_read: int
    rows_landed: int
    duplicate_source_rows: int
    watermark_before: datetime | None
    read_since: datetime | None
    extra_source_columns: list[str]
    seconds: float

    def as_metadata(self) -> dict[str, object]:
        return _metadata(self)


@dataclass(frozen=True)
class MergeResult:
    table: str
    load_id: str
    mode: Mode
    rows_inserted: int
    rows_updated: int
    hard_deleted: int
    watermark_before: datetime | None
    watermark_after: datetime | None
    stale_rows_skipped: int = 0
    # Rows of the batch updated after the watermark's cap, named in the run's output; None when there are none.
    rows_beyond_watermark_cap: RowsBeyondCap | None = None

    def as_metadata(self) -> dict[str, object]:
        return _metadata(self)


class RawLoader(Protocol):
    """The two steps on one warehouse engine: this module's for DuckDB, orchestration/postgres_raw.py's for Postgres."""

    def land_table(
        self,
        reader: BatchReader,
        table: SourceTable,
        *,
        load_id: str,
        full_refresh: bool = False,
        lookback: timedelta = timedelta(hours=24),
    ) -> LandResult: ...

    def merge_landed(
        self, tables: list[SourceTable], *, as_of_end: datetime | None = None, source_timezone: str | None = None
    ) -> list[MergeResult]: ...


class DuckDBRawLoader:
    """land_table and merge_landed on a DuckDB file, each on a connection of its own (DuckDB has one writer)."""

    def __init__(self, connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]) -> None:
        self.connect = connect

    def land_table(self, reader: BatchReader, table: SourceTable, **options) -> LandResult:
        with self.connect() as con:
            return land_table(con, reader, table, **options)

    def merge_landed(
        self, tables: list[SourceTable], *, as_of_end: datetime | None = None, source_timezone: str | None = None
    ) -> list[MergeResult]:
        with self.connect() as con:
            return merge_landed(con, tables, as_of_end=as_of_end, source_timezone=source_timezone)


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in (RAW_SCHEMA, LANDING_SCHEMA):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {EXTRACT_STATE_TABLE} ("
        "table_name VARCHAR PRIMARY KEY, watermark TIMESTAMP, load_id VARCHAR, loaded_at TIMESTAMP)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {HARD_DELETES_TABLE} ("
        "table_name VARCHAR, primary_key VARCHAR, detected_at TIMESTAMP, load_id VARCHAR)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BATCHES_TABLE} (table_name VARCHAR PRIMARY KEY, load_id VARCHAR, "
        "mode VARCHAR, landed_at TIMESTAMP, max_updated_at TIMESTAMP, merged_at TIMESTAMP)"
    )


def read_watermark(con: duckdb.DuckDBPyConnection, table_name: str) -> datetime | None:
    row = con.execute(f"SELECT watermark FROM {EXTRACT_STATE_TABLE} WHERE table_name = ?", [table_name]).fetchone()
    return row[0] if row else None


def land_table(
    con: duckdb.DuckDBPyConnection,
    reader: BatchReader,
    table: SourceTable,
    *,
    load_id: str,
    full_refresh: bool = False,
    lookback: timedelta = timedelta(hours=24),
) -> LandResult:
    """Read one table's delta (or everything) into landing.<table>, replacing the previous batch.

    The lookback re-reads rows updated shortly before the watermark: updates that arrive late with an
    older updated_at are still picked up, and the merge on the key makes the re-read harmless. It is subtracted
    from the watermark as the source wrote it (悟空CRM's local time), so it is a span of the source's own clock.
    A table declared without watermark columns is read whole every time (mode full_refresh).
    """
    started = time.perf_counter()
    ensure_schemas(con)
    con.execute(raw_table_ddl(table))
    extra_columns = reader.check_columns(table)
    watermark_before = read_watermark(con, table.name)
    mode: Mode = (
        "file"
        if not reader.advances_watermark
        else "incremental"
        if watermark_before is not None and table.watermark and not full_refresh
        else "full_refresh"
    )
    read_since = watermark_before - lookback if mode == "incremental" else None
    with reader.batch_in(con, table, updated_since=read_since) as batch:
        rows_read, rows_landed = _land_batch(con, table, batch, load_id=load_id, mode=mode)

    return LandResult(
        table=table.name,
        load_id=load_id,
        mode=mode,
        rows_read=rows_read,
        rows_landed=rows_landed,
        duplicate_source_rows=rows_read - rows_landed,
        watermark_before=watermark_before,
        read_since=read_since,
        extra_source_columns=extra_columns,
        seconds=round(time.perf_counter() - started, 3),
    )


def _land_batch(
    con: duckdb.DuckDBPyConnection, table: SourceTable, batch: str, *, load_id: str, mode: Mode
) -> tuple[int, int]:
    """Check the batch's keys, type it and replace landing.<table> with it: (rows read, rows landed).

    The one landing step whatever the batch's route (an Arrow batch, or a table DuckDB scanned itself), so
    both land the same rows and fail with the same errors.
    """
    landed_at = utc_now()
    landing = f"{LANDING_SCHEMA}.{table.name}"
    # A full refresh's batch becomes the raw table as it is: written where the merge can rename it into place.
    written = _full_refresh_batch(table) if mode == "full_refresh" else landing
    with DuckDBSession(con).transaction():
        check_keys_present(con, table, batch)
        rows_read = con.execute(f"SELECT count(*) FROM {batch}").fetchone()[0]
        drop_landed_batch(con, table)
        try:
            con.execute(
                f"CREATE TABLE {written} AS "
                f"{typed_batch_query(table, batch, deduplicate=has_duplicate_keys(con, table, batch))}",
                [load_id, landed_at],
            )
        except duckdb.Error as error:
            if is_disk_full(error):
                raise
            raise SourceContractError(
                f"source table {table.name!r} has a value that breaks its contract type: {error}"
            ) from error
        if written != landing:
            con.execute(f"CREATE VIEW {landing} AS SELECT * FROM {written}")
        rows_landed, max_updated_at = con.execute(
            f"SELECT count(*), max({watermark_sql(table) or 'NULL::TIMESTAMP'}) FROM {landing}"
        ).fetchone()
        con.execute(
            f"INSERT OR REPLACE INTO {BATCHES_TABLE} VALUES (?, ?, ?, ?, ?, NULL)",
            [table.name, load_id, mode, landed_at, max_updated_at],
        )
    return rows_read, rows_landed


def _full_refresh_batch(table: SourceTable) -> str:
    return f"{RAW_SCHEMA}.{FULL_REFRESH_BATCH_PREFIX}{table.name}"


def drop_landed_batch(con: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
    """Drop the previous batch of `table`: landing.<table> (a table, or a view of a full refresh's batch), and a
    full refresh's batch that was never merged (the gate stopped that run). DuckDB drops each by its own kind."""
    landing = f"{LANDING_SCHEMA}.{table.name}"
    kind = _relation_type(con, landing)
    if kind is not None:
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {landing}")
    con.execute(f"DROP TABLE IF EXISTS {_full_refresh_batch(table)}")


def _relation_type(con: duckdb.DuckDBPyConnection, relation: str) -> str | None:
    """'BASE TABLE', 'VIEW', or None when `schema.name` does not exist."""
    schema, name = relation.split(".")
    row = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchone()
    return row[0] if row else None


def has_duplicate_keys(con: duckdb.DuckDBPyConnection, table: SourceTable, batch: str) -> bool:
    """Whether the batch holds a key twice: a cheap count that spares most batches the dedupe's sort."""
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    return con.execute(f"SELECT count(*) > count(DISTINCT ({keys})) FROM {batch}").fetchone()[0]


def typed_batch_query(table: SourceTable, batch: str, *, deduplicate: bool = True) -> str:
    """DuckDB SELECT of a source batch cast to the contract's types, one row per key, stamped with the load.

    Copies of a key collapse to the newest watermark (updated_at; 悟空CRM's coalesce(update_time, create_time));
    among copies with the same watermark, or in a table without one, to the one whose
    typed values, compared column by column in the contract's order, sort first (ascending, nulls last). The
    choice depends on the values alone, so every run, both warehouses (Postgres types its batches with this
    query too) and every source (SQLite, MySQL, Postgres: none keeps a stable row order) keep the same copy.
    The count is reported so the quality gate, not the loader, decides whether duplicates in the source are
    acceptable. Parameters: load_id, loaded_at.
    """
    casts = ", ".join(f'CAST("{c.name}" AS {duckdb_type(c)}) AS "{c.name}"' for c in table.columns)
    query = f"SELECT {casts}, ?::VARCHAR AS {LOAD_ID_COLUMN}, ?::TIMESTAMP AS {LOADED_AT_COLUMN} FROM {batch}"
    if not deduplicate:
        return query
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    newest_first = [f"{watermark} DESC NULLS LAST"] if (watermark := watermark_sql(table)) else []
    tie_breaks = [f'"{name}" ASC NULLS LAST' for name in table.column_names]
    return (
        f"SELECT * FROM ({query}) AS typed QUALIFY row_number() OVER "
        f"(PARTITION BY {keys} ORDER BY {', '.join(newest_first + tie_breaks)}) = 1"
    )


def merge_landed(
    con: duckdb.DuckDBPyConnection,
    tables: list[SourceTable],
    *,
    as_of_end: datetime | None = None,
    source_timezone: str | None = None,
) -> list[MergeResult]:
    """Merge the unmerged landed batch of each table into raw and advance its watermark, atomically.

    Tables without an unmerged batch are skipped, so re-running the merge step changes nothing. No watermark
    passes `as_of_end` (the first instant after the as-of date) nor the time its batch was read; both are
    compared in `source_timezone`'s local time when the source writes local times (悟空CRM), else in UTC.
    """
    ensure_schemas(con)
    results = []
    with DuckDBSession(con).transaction():
        for table in tables:
            batch = con.execute(
                f"SELECT load_id, mode, max_updated_at, landed_at FROM {BATCHES_TABLE} "
                "WHERE table_name = ? AND merged_at IS NULL",
                [table.name],
            ).fetchone()
            if batch is not None:
                results.append(_merge_one(con, table, *batch, as_of_end=as_of_end, source_timezone=source_timezone))
        crash_point("raw_merge")
    return results


def load_table(
    con: duckdb.DuckDBPyConnection,
    reader: BatchReader,
    table: SourceTable,
    *,
    load_id: str,
    as_of_end: datetime | None = None,
    source_timezone: str | None = None,
    **land_options,
) -> tuple[LandResult, MergeResult]:
    """Land and merge one table straight away: the path without a gate in between (benchmarks, tests)."""
    landed = land_table(con, reader, table, load_id=load_id, **land_options)
    (merged,) = merge_landed(con, [table], as_of_end=as_of_end, source_timezone=source_timezone)
    return landed, merged


def _merge_one(
    con: duckdb.DuckDBPyConnection,
    table: SourceTable,
    load_id: str,
    mode: Mode,
    batch_max: datetime | None,
    read_at: datetime,
    *,
    as_of_end: datetime | None,
    source_timezone: str | None = None,
) -> MergeResult:
    target = f"{RAW_SCHEMA}.{table.name}"
    batch = f"{LANDING_SCHEMA}.{table.name}"
    con.execute(raw_table_ddl(table))
    key_match = " AND ".join(f'{target}."{k}" = {batch}."{k}"' for k in table.primary_key)
    rows_in_batch = con.execute(f"SELECT count(*) FROM {batch}").fetchone()[0]
    watermark_before = read_watermark(con, table.name)
    hard_deleted = stale_rows_skipped = 0
    beyond_cap = None
    if mode == "file":
        stale_rows_skipped = _drop_stale_rows(con, table, key_match)
        rows_in_batch -= stale_rows_skipped
    if mode != "full_refresh":
        rows_updated = con.execute(
            f"SELECT count(*) FROM {batch} WHERE EXISTS (SELECT 1 FROM {target} WHERE {key_match})"
        ).fetchone()[0]
        con.execute(f"DELETE FROM {target} USING {batch} WHERE {key_match}")
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {batch}")
    else:
        # Every key either stays (an update) or vanished (a hard delete); the batch replaces the table, renamed
        # into place. landing.<table> stays the batch, a view of raw.<table> now: gate 1 reads it as the pending
        # batch of a table a later run does not land (a file drop of another table), which merges nothing.
        rows_before = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        hard_deleted = _record_hard_deletes(con, table, load_id=load_id) if rows_before else 0
        rows_updated = rows_before - hard_deleted
        if _relation_type(con, _full_refresh_batch(table)) is not None:
            con.execute(f"DROP TABLE {target}")
            con.execute(f"ALTER TABLE {_full_refresh_batch(table)} RENAME TO {table.name}")
            con.execute(f"CREATE OR REPLACE VIEW {batch} AS SELECT * FROM {target}")
        else:  # a batch landed as a table (by an earlier version of this loader, or by hand): copied
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {batch}")
    if mode == "file":  # a file says nothing about how far the database has been read
        watermark_after = watermark_before
    else:
        watermark_after, beyond_cap = capped_watermark(
            table,
            batch,
            batch_max=batch_max,
            old_watermark=watermark_before if mode == "incremental" else None,
            read_at=read_at,
            as_of_end=as_of_end,
            source_timezone=source_timezone,
            fetch=lambda sql: con.execute(sql).fetchall(),
        )
        con.execute(
            f"INSERT OR REPLACE INTO {EXTRACT_STATE_TABLE} VALUES (?, ?, ?, ?)",
            [table.name, watermark_after, load_id, utc_now()],
        )
    con.execute(f"UPDATE {BATCHES_TABLE} SET merged_at = ? WHERE table_name = ?", [utc_now(), table.name])
    return MergeResult(
        table=table.name,
        load_id=load_id,
        mode=mode,
        rows_inserted=rows_in_batch - rows_updated,
        rows_updated=rows_updated,
        hard_deleted=hard_deleted,
        watermark_before=watermark_before,
        watermark_after=watermark_after,
        stale_rows_skipped=stale_rows_skipped,
        rows_beyond_watermark_cap=beyond_cap,
    )


def _drop_stale_rows(con: duckdb.DuckDBPyConnection, table: SourceTable, key_match: str) -> int:
    """Remove from a file's batch the rows raw already holds in a newer version: an old export never wins.

    A table without watermark columns has no "newer": its file's rows replace raw's.
    """
    target, batch = f"{RAW_SCHEMA}.{table.name}", f"{LANDING_SCHEMA}.{table.name}"
    if not table.watermark:
        return 0
    stale = f"{key_match} AND {watermark_sql(table, target)} > {watermark_sql(table, batch)}"
    count = con.execute(f"SELECT count(*) FROM {batch} JOIN {target} ON {stale}").fetchone()[0]
    if count:
        con.execute(f"DELETE FROM {batch} USING {target} WHERE {stale}")
    return count


def check_keys_present(con: duckdb.DuckDBPyConnection, table: SourceTable, batch: str = BATCH_RELATION) -> None:
    null_keys = con.execute(
        f"SELECT count(*) FROM {batch} WHERE " + " OR ".join(f'"{k}" IS NULL' for k in table.primary_key)
    ).fetchone()[0]
    if null_keys:
        raise SourceContractError(
            f"source table {table.name!r}: {null_keys} row(s) with a null primary key {list(table.primary_key)}; "
            "rows without a key cannot be merged: fix them in the CRM database"
        )


def _record_hard_deletes(con: duckdb.DuckDBPyConnection, table: SourceTable, *, load_id: str) -> int:
    """On a full refresh: keys held in raw but no longer in the source were hard-deleted there."""
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    key_text = duckdb_key_text(table.primary_key)
    vanished = f"SELECT {keys} FROM {RAW_SCHEMA}.{table.name} EXCEPT SELECT {keys} FROM {LANDING_SCHEMA}.{table.name}"
    con.execute(
        f"INSERT INTO {HARD_DELETES_TABLE} SELECT ?, {key_text}, ?, ? FROM ({vanished})",
        [table.name, utc_now(), load_id],
    )
    return con.execute(
        f"SELECT count(*) FROM {HARD_DELETES_TABLE} WHERE table_name = ? AND load_id = ?", [table.name, load_id]
    ).fetchone()[0]


def utc_now() -> datetime:
    """Naive UTC, as every timestamp in the warehouse is."""
    return datetime.now(UTC).replace(tzinfo=None)


def _metadata(result: LandResult | MergeResult) -> dict[str, object]:
    return _json_ready(asdict(result))


def _json_ready(value: object) -> object:
    """Dates as ISO text, in nested results too: Dagster metadata is JSON."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value
