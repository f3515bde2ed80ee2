"""Land and merge CRM batches into a PostgreSQL warehouse: incremental_load's two steps, in Postgres.

The invariants are those of orchestration/incremental_load.py (one row per key in raw, every row stamped
with its load, watermarks never ahead of loaded rows nor past the end of the as-of date or the extract's
clock, hard deletes recorded on a full refresh); only the engine differs. A batch is typed and deduplicated
in an in-memory DuckDB with the very query the DuckDB path uses, so both warehouses land identical rows (the
same copy of a duplicated key included), then streamed to `landing.<table>` with COPY. The merge of every
landed batch and the watermarks change in one Postgres transaction; the watermark's cap and the rows beyond
it are orchestration/watermark_cap.py's, in SQL both engines run.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.csv
import sqlalchemy as sa

from crm_contract import SourceTable
from orchestration.crash_points import crash_point
from orchestration.file_reader import NothingDropped
from orchestration.incremental_load import (
    BATCHES_TABLE,
    EXTRACT_STATE_TABLE,
    HARD_DELETES_TABLE,
    LANDING_SCHEMA,
    LandResult,
    MergeResult,
    Mode,
    check_keys_present,
    ensure_schemas,
    typed_batch_query,
    utc_now,
)
from orchestration.raw_schema import LOAD_ID_COLUMN, LOADED_AT_COLUMN, RAW_SCHEMA, raw_table_ddl, watermark_sql
from orchestration.source_reader import BatchReader, SourceContractError
from orchestration.warehouse_sql import postgres_key_text
from orchestration.watermark_cap import capped_watermark


class PostgresRawLoader:
    """The raw and landing schemas of a Postgres warehouse, written through one psycopg2 connection per call."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextmanager
    def _transaction(self) -> Iterator:
        import psycopg2

        parsed = sa.engine.make_url(self.url)
        con = psycopg2.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
        )
        try:
            with con, con.cursor() as cursor:  # commits on success, rolls back on any error
                cursor.execute("SET TIME ZONE 'UTC'")
                ensure_schemas(cursor)  # the DuckDB path's DDL is plain SQL that Postgres runs as is
                yield cursor
        finally:
            con.close()

    def land_table(
        self,
        reader: BatchReader,
        table: SourceTable,
        *,
        load_id: str,
        full_refresh: bool = False,
        lookback: timedelta = timedelta(hours=24),
    ) -> LandResult:
        """Read one table's delta (or everything) into landing.<table>, replacing the previous batch."""
        # A table only file drops feed, in a run without its file: an empty delta, which changes nothing.
        nothing_dropped = isinstance(reader, NothingDropped)
        if not reader.advances_watermark and not nothing_dropped:
            raise SourceContractError(
                f"{table.name}: file drops load into the DuckDB warehouse only; on Postgres, load the export into "
                "the CRM database (or a staging copy of it) and let the extract read it"
            )
        started = time.perf_counter()
        extra_columns = reader.check_columns(table)
        with self._transaction() as cursor:
            cursor.execute(raw_table_ddl(table))
            watermark_before = _watermark(cursor, table.name)
            incremental = nothing_dropped or (
                watermark_before is not None and bool(table.watermark) and not full_refresh
            )
            read_since = watermark_before - lookback if incremental and watermark_before is not None else None
            source_batch = reader.read(table, updated_since=read_since)
            landed_at = utc_now()
            batch, max_updated_at = _typed_batch(source_batch, table, load_id=load_id, landed_at=landed_at)
            landing = f"{LANDING_SCHEMA}.{table.name}"
            cursor.execute(f"DROP TABLE IF EXISTS {landing}")
            cursor.execute(raw_table_ddl(table, name=landing))
            _copy_into(cursor, landing, batch)
            mode: Mode = "incremental" if incremental else "full_refresh"
            cursor.execute(f"DELETE FROM {BATCHES_TABLE} WHERE table_name = %s", [table.name])
            cursor.execute(
                f"INSERT INTO {BATCHES_TABLE} VALUES (%s, %s, %s, %s, %s, NULL)",
                [table.name, load_id, mode, landed_at, max_updated_at],
            )
        return LandResult(
            table=table.name,
            load_id=load_id,
            mode=mode,
            rows_read=source_batch.num_rows,
            rows_landed=batch.num_rows,
            duplicate_source_rows=source_batch.num_rows - batch.num_rows,
            watermark_before=watermark_before,
            read_since=read_since,
            extra_source_columns=extra_columns,
            seconds=round(time.perf_counter() - started, 3),
        )

    def merge_landed(
        self, tables: list[SourceTable], *, as_of_end: datetime | None = None, source_timezone: str | None = None
    ) -> list[MergeResult]:
        """Merge each table's unmerged batch into raw and advance its watermark, all in one transaction.

        No watermark passes `as_of_end` (the first instant after the as-of date) nor the time its batch was read,
        compared in `source_timezone`'s local time for a source that writes local times (watermark_cap.py).
        """
        results = []
        with self._transaction() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT load_id, mode, max_updated_at, landed_at FROM {BATCHES_TABLE} "
                    "WHERE table_name = %s AND merged_at IS NULL",
                    [table.name],
                )
                batch = cursor.fetchone()
                if batch is not None:
                    results.append(
                        _merge_one(cursor, table, *batch, as_of_end=as_of_end, source_timezone=source_timezone)
                    )
            crash_point("raw_merge")
        return results


def _typed_batch(
    source_batch: pa.Table, table: SourceTable, *, load_id: str, landed_at: datetime
) -> tuple[pa.Table, datetime | None]:
    """The batch typed and deduplicated as the DuckDB path does it, and its newest watermark (None: no rows, or a
    table read whole)."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("source_batch", source_batch)
        check_keys_present(con, table)
        try:
            typed = con.execute(typed_batch_query(table, "source_batch"), [load_id, landed_at]).to_arrow_table()
        except duckdb.Error as error:
            raise SourceContractError(
                f"source table {table.name!r} has a value that breaks its contract type: {error}"
            ) from error
        watermark = watermark_sql(table)
        if watermark is None:
            return typed, None
        con.register("typed_batch", typed)
        return typed, con.execute(f"SELECT max({watermark}) FROM typed_batch").fetchone()[0]


def _copy_into(cursor, target: str, batch: pa.Table) -> None:
    """COPY in CSV: every string is quoted, so an empty string stays '' and only an unquoted empty field is NULL."""
    buffer = io.BytesIO()
    pyarrow.csv.write_csv(batch, buffer, pyarrow.csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    buffer.seek(0)
    columns = ", ".join(f'"{name}"' for name in batch.column_names)
    cursor.copy_expert(f"COPY {target} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)


def _merge_one(
    cursor,
    table: SourceTable,
    load_id: str,
    mode: Mode,
    batch_max: datetime | None,
    read_at: datetime,
    *,
    as_of_end: datetime | None,
    source_timezone: str | None = None,
) -> MergeResult:
    target, batch = f"{RAW_SCHEMA}.{table.name}", f"{LANDING_SCHEMA}.{table.name}"
    key_match = " AND ".join(f'{target}."{k}" = {batch}."{k}"' for k in table.primary_key)
    cursor.execute(
        f"SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM {target} WHERE {key_match})) FROM {batch}"
    )
    rows_in_batch, rows_updated = cursor.fetchone()
    watermark_before = _watermark(cursor, table.name)
    hard_deleted = 0
    if mode == "incremental":
        cursor.execute(f"DELETE FROM {target} USING {batch} WHERE {key_match}")
    else:
        hard_deleted = _record_hard_deletes(cursor, table, load_id=load_id)
        cursor.execute(f"DELETE FROM {target}")
    columns = ", ".join(f'"{c}"' for c in [*table.column_names, LOAD_ID_COLUMN, LOADED_AT_COLUMN])
    cursor.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {batch}")
    watermark_after, beyond_cap = capped_watermark(
        table,
        batch,
        batch_max=batch_max,
        old_watermark=watermark_before if mode == "incremental" else None,
        read_at=read_at,
        as_of_end=as_of_end,
        source_timezone=source_timezone,
        fetch=lambda sql: _fetch_all(cursor, sql),
    )
    cursor.execute(
        f"INSERT INTO {EXTRACT_STATE_TABLE} VALUES (%s, %s, %s, %s) ON CONFLICT (table_name) DO UPDATE SET "
        "watermark = excluded.watermark, load_id = excluded.load_id, loaded_at = excluded.loaded_at",
        [table.name, watermark_after, load_id, utc_now()],
    )
    cursor.execute(f"UPDATE {BATCHES_TABLE} SET merged_at = %s WHERE table_name = %s", [utc_now(), table.name])
    return MergeResult(
        table=table.name,
        load_id=load_id,
        mode=mode,
        rows_inserted=rows_in_batch - rows_updated,
        rows_updated=rows_updated,
        hard_deleted=hard_deleted,
        watermark_before=watermark_before,
        watermark_after=watermark_after,
        rows_beyond_watermark_cap=beyond_cap,
    )


def _fetch_all(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return cursor.fetchall()


def _record_hard_deletes(cursor, table: SourceTable, *, load_id: str) -> int:
    """Keys in raw but no longer in the full batch, written as DuckDB's path writes them: {'key': value}."""
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    key_text = postgres_key_text(table.primary_key)
    vanished = f"SELECT {keys} FROM {RAW_SCHEMA}.{table.name} EXCEPT SELECT {keys} FROM {LANDING_SCHEMA}.{table.name}"
    cursor.execute(
        f"INSERT INTO {HARD_DELETES_TABLE} SELECT %s, {key_text}, %s, %s FROM ({vanished}) AS vanished",
        [table.name, utc_now(), load_id],
    )
    return cursor.rowcount


def _watermark(cursor, table_name: str) -> datetime | None:
    cursor.execute(f"SELECT watermark FROM {EXTRACT_STATE_TABLE} WHERE table_name = %s", [table_name])
    row = cursor.fetchone()
    return row[0] if row else None
