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

The steps are written once, here, over a SqlSession; what differs between the warehouse engines (how a batch
is read and written to landing, how a full refresh's batch replaces the raw table) is a RawEngine: DuckDB's in
orchestration/duckdb_raw.py, Postgres's in orchestration/postgres_raw.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

import duckdb

from crm_contract import SourceTable
from orchestration.crash_points import crash_point
from orchestration.file_reader import NothingDropped
from orchestration.raw_schema import (
    BATCHES_TABLE,
    EXTRACT_STATE_TABLE,
    HARD_DELETES_TABLE,
    LANDING_SCHEMA,
    LOAD_ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    duckdb_type,
    ensure_schemas,
    raw_table_ddl,
    watermark_sql,
)
from orchestration.source_reader import BatchReader, SourceContractError
from orchestration.warehouse_sql import DuckDBSession, SqlSession, scalar
from orchestration.watermark_cap import RowsBeyondCap, capped_watermark

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
    # Declared columns raw lacked (added_raw_columns): the table was re-read whole to fill them.
    raw_columns_added: tuple[str, ...] = ()

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
    """The two steps on one warehouse (DuckDBRawLoader, orchestration/postgres_raw.py's PostgresRawLoader)."""

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


class RawEngine(Protocol):
    """What one warehouse engine does its own way in the two steps; everything else is this module's."""

    session: SqlSession
    # Whether a dropped file's batch can be landed (DuckDB); elsewhere the export goes through the CRM database.
    loads_dropped_files: bool

    def batch(self, reader: BatchReader, table: SourceTable, *, updated_since: datetime | None) -> Any:
        """A context manager giving the source's rows as this engine's write_batch takes them."""
        ...

    def write_batch(
        self, batch: Any, table: SourceTable, *, mode: Mode, load_id: str, landed_at: datetime
    ) -> tuple[int, int, datetime | None]:
        """Type the batch, one row per key, and make it landing.<table> (in the caller's transaction): rows read,
        rows landed, and the newest watermark among them (None: no rows, or a table read whole)."""
        ...

    def replace_raw(self, table: SourceTable) -> None:
        """A full refresh's landed batch becomes raw.<table> (in the caller's transaction)."""
        ...


def read_watermark(con: SqlSession | duckdb.DuckDBPyConnection, table_name: str) -> datetime | None:
    rows = _session(con).rows(f"SELECT watermark FROM {EXTRACT_STATE_TABLE} WHERE table_name = ?", [table_name])
    return rows[0][0] if rows else None


def land(
    engine: RawEngine,
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
    A table declared without watermark columns is read whole every time (mode full_refresh). A table only file
    drops feed, in a run without its file (NothingDropped), lands as an empty file on every engine.
    """
    if not reader.advances_watermark and not engine.loads_dropped_files and not isinstance(reader, NothingDropped):
        raise SourceContractError(
            f"{table.name}: file drops load into the DuckDB warehouse only; on Postgres, load the export into "
            "the CRM database (or a staging copy of it) and let the extract read it"
        )
    started = time.perf_counter()
    session = engine.session
    ensure_schemas(session)
    session.execute(raw_table_ddl(table))
    extra_columns = reader.check_columns(table)
    added = add_missing_raw_columns(session, table)
    watermark_before = read_watermark(session, table.name)
    mode: Mode = (
        "file"
        if not reader.advances_watermark
        else "incremental"
        if watermark_before is not None and table.watermark and not full_refresh and not added
        else "full_refresh"
    )
    read_since = watermark_before - lookback if mode == "incremental" else None
    with engine.batch(reader, table, updated_since=read_since) as batch, session.transaction():
        landed_at = utc_now()
        rows_read, rows_landed, max_updated_at = engine.write_batch(
            batch, table, mode=mode, load_id=load_id, landed_at=landed_at
        )
        session.execute(
            f"INSERT INTO {BATCHES_TABLE} (table_name, load_id, mode, landed_at, max_updated_at, merged_at, rows_read) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?) ON CONFLICT (table_name) DO UPDATE SET "
            "load_id = excluded.load_id, mode = excluded.mode, landed_at = excluded.landed_at, "
            "max_updated_at = excluded.max_updated_at, merged_at = NULL, rows_read = excluded.rows_read",
            [table.name, load_id, mode, landed_at, max_updated_at, rows_read],
        )
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
        raw_columns_added=added,
    )


def add_missing_raw_columns(session: SqlSession, table: SourceTable) -> tuple[str, ...]:
    """Add to raw.<table> the declared columns it lacks, null; their names.

    A raw table is created with the columns declared at its first load; a column declared since (a setting that
    declares one, as CRM_SALESFORCE_LOSS_REASON_FIELD does; a release that reads one more) would make every later
    merge fail. The caller reads such a table whole (a full refresh of that table), so that no row keeps a null the
    source has a value for.
    """
    present = {
        name
        for (name,) in session.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [RAW_SCHEMA, table.name],
        )
    }
    added = tuple(column for column in table.columns if column.name not in present)
    for column in added:
        session.execute(f'ALTER TABLE {RAW_SCHEMA}."{table.name}" ADD COLUMN "{column.name}" {duckdb_type(column)}')
    return tuple(column.name for column in added)


def merge(
    engine: RawEngine,
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
    session = engine.session
    ensure_schemas(session)
    results = []
    with session.transaction():
        for table in tables:
            batch = session.rows(
                f"SELECT load_id, mode, max_updated_at, landed_at FROM {BATCHES_TABLE} "
                "WHERE table_name = ? AND merged_at IS NULL",
                [table.name],
            )
            if batch:
                results.append(
                    _merge_one(engine, table, *batch[0], as_of_end=as_of_end, source_timezone=source_timezone)
                )
        crash_point("raw_merge")
    return results


def _merge_one(
    engine: RawEngine,
    table: SourceTable,
    load_id: str,
    mode: Mode,
    batch_max: datetime | None,
    read_at: datetime,
    *,
    as_of_end: datetime | None,
    source_timezone: str | None = None,
) -> MergeResult:
    session = engine.session
    target = f"{RAW_SCHEMA}.{table.name}"
    batch = f"{LANDING_SCHEMA}.{table.name}"
    session.execute(raw_table_ddl(table))
    key_match = " AND ".join(f'{target}."{k}" = {batch}."{k}"' for k in table.primary_key)
    rows_in_batch = scalar(session, f"SELECT count(*) FROM {batch}")
    watermark_before = read_watermark(session, table.name)
    hard_deleted = stale_rows_skipped = 0
    beyond_cap = None
    if mode == "file":
        stale_rows_skipped = _drop_stale_rows(session, table, key_match)
        rows_in_batch -= stale_rows_skipped
    if mode != "full_refresh":
        rows_updated = scalar(
            session, f"SELECT count(*) FROM {batch} WHERE EXISTS (SELECT 1 FROM {target} WHERE {key_match})"
        )
        columns = ", ".join(f'"{c}"' for c in [*table.column_names, LOAD_ID_COLUMN, LOADED_AT_COLUMN])
        session.execute(f"DELETE FROM {target} USING {batch} WHERE {key_match}")
        session.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {batch}")
    else:
        # Every key either stays (an update) or vanished (a hard delete); the batch replaces the table.
        rows_before = scalar(session, f"SELECT count(*) FROM {target}")
        hard_deleted = _record_hard_deletes(session, table, load_id=load_id) if rows_before else 0
        rows_updated = rows_before - hard_deleted
        engine.replace_raw(table)
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
            fetch=session.rows,
        )
        session.execute(
            f"INSERT INTO {EXTRACT_STATE_TABLE} VALUES (?, ?, ?, ?) ON CONFLICT (table_name) DO UPDATE SET "
            "watermark = excluded.watermark, load_id = excluded.load_id, loaded_at = excluded.loaded_at",
            [table.name, watermark_after, load_id, utc_now()],
        )
    session.execute(f"UPDATE {BATCHES_TABLE} SET merged_at = ? WHERE table_name = ?", [utc_now(), table.name])
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


def _drop_stale_rows(session: SqlSession, table: SourceTable, key_match: str) -> int:
    """Remove from a file's batch the rows raw already holds in a newer version: an old export never wins.

    A table without watermark columns has no "newer": its file's rows replace raw's.
    """
    target, batch = f"{RAW_SCHEMA}.{table.name}", f"{LANDING_SCHEMA}.{table.name}"
    if not table.watermark:
        return 0
    stale = f"{key_match} AND {watermark_sql(table, target)} > {watermark_sql(table, batch)}"
    count = scalar(session, f"SELECT count(*) FROM {batch} JOIN {target} ON {stale}")
    if count:
        session.execute(f"DELETE FROM {batch} USING {target} WHERE {stale}")
    return count


def _record_hard_deletes(session: SqlSession, table: SourceTable, *, load_id: str) -> int:
    """On a full refresh: keys held in raw but no longer in the source were hard-deleted there, recorded as
    {'key': value} on every engine."""
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    vanished = f"SELECT {keys} FROM {RAW_SCHEMA}.{table.name} EXCEPT SELECT {keys} FROM {LANDING_SCHEMA}.{table.name}"
    session.execute(
        f"INSERT INTO {HARD_DELETES_TABLE} SELECT ?, {session.key_text(table.primary_key)}, ?, ? "
        f"FROM ({vanished}) AS vanished",
        [table.name, utc_now(), load_id],
    )
    return scalar(
        session,
        f"SELECT count(*) FROM {HARD_DELETES_TABLE} WHERE table_name = ? AND load_id = ?",
        [table.name, load_id],
    )


# The DuckDB warehouse's entry points: on a connection the caller holds, or (DuckDBRawLoader) on one per step.


def land_table(con: duckdb.DuckDBPyConnection, reader: BatchReader, table: SourceTable, **options) -> LandResult:
    """`land` into the DuckDB file `con` is connected to."""
    from orchestration.duckdb_raw import DuckDBRawEngine

    return land(DuckDBRawEngine(con), reader, table, **options)


def merge_landed(
    con: duckdb.DuckDBPyConnection,
    tables: list[SourceTable],
    *,
    as_of_end: datetime | None = None,
    source_timezone: str | None = None,
) -> list[MergeResult]:
    """`merge` in the DuckDB file `con` is connected to."""
    from orchestration.duckdb_raw import DuckDBRawEngine

    return merge(DuckDBRawEngine(con), tables, as_of_end=as_of_end, source_timezone=source_timezone)


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


class EngineRawLoader:
    """land and merge (the RawLoader steps), each on an engine of its own: a connection per step."""

    def __init__(self, open_engine: Callable[[], AbstractContextManager[RawEngine]]) -> None:
        self.open_engine = open_engine

    def land_table(self, reader: BatchReader, table: SourceTable, **options) -> LandResult:
        with self.open_engine() as engine:
            return land(engine, reader, table, **options)

    def merge_landed(
        self, tables: list[SourceTable], *, as_of_end: datetime | None = None, source_timezone: str | None = None
    ) -> list[MergeResult]:
        with self.open_engine() as engine:
            return merge(engine, tables, as_of_end=as_of_end, source_timezone=source_timezone)


class DuckDBRawLoader(EngineRawLoader):
    """The steps on a DuckDB file, each on a connection of its own (DuckDB has one writer)."""

    def __init__(self, connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]) -> None:
        @contextmanager
        def open_engine() -> Iterator[RawEngine]:
            from orchestration.duckdb_raw import DuckDBRawEngine

            with connect() as con:
                yield DuckDBRawEngine(con)

        super().__init__(open_engine)


def utc_now() -> datetime:
    """Naive UTC, as every timestamp in the warehouse is."""
    return datetime.now(UTC).replace(tzinfo=None)


def _session(con: SqlSession | duckdb.DuckDBPyConnection) -> SqlSession:
    return DuckDBSession(con) if isinstance(con, duckdb.DuckDBPyConnection) else con


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
