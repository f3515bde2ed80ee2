"""Merge a batch of source rows into the warehouse's raw schema, with an updated_at high-watermark.

Invariants the rest of the pipeline relies on:
- one row per primary key in every raw table (the batch is merged on the key, newest version wins);
- the watermark is written in the same transaction as the rows, so it never runs ahead of loaded data;
- every row carries the id and time of the load that wrote it;
- a full refresh replaces the table and records the keys that vanished from the source (hard deletes).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

import duckdb
import pyarrow as pa

from crm_contract import SourceTable
from orchestration.raw_schema import LOAD_ID_COLUMN, LOADED_AT_COLUMN, RAW_SCHEMA, duckdb_type, raw_table_ddl
from orchestration.source_reader import SourceContractError, SourceReader

EXTRACT_STATE_TABLE = f"{RAW_SCHEMA}._extract_state"
HARD_DELETES_TABLE = f"{RAW_SCHEMA}._hard_deletes"


@dataclass(frozen=True)
class LoadResult:
    table: str
    load_id: str
    mode: Literal["incremental", "full_refresh"]
    rows_read: int
    rows_inserted: int
    rows_updated: int
    duplicate_source_rows: int
    hard_deleted: int
    watermark_before: datetime | None
    watermark_after: datetime | None
    extra_source_columns: list[str]
    seconds: float

    def as_metadata(self) -> dict[str, object]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {EXTRACT_STATE_TABLE} ("
        "table_name VARCHAR PRIMARY KEY, watermark TIMESTAMP, load_id VARCHAR, loaded_at TIMESTAMP)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {HARD_DELETES_TABLE} ("
        "table_name VARCHAR, primary_key VARCHAR, detected_at TIMESTAMP, load_id VARCHAR)"
    )


def read_watermark(con: duckdb.DuckDBPyConnection, table_name: str) -> datetime | None:
    row = con.execute(f"SELECT watermark FROM {EXTRACT_STATE_TABLE} WHERE table_name = ?", [table_name]).fetchone()
    return row[0] if row else None


def load_table(
    con: duckdb.DuckDBPyConnection,
    reader: SourceReader,
    table: SourceTable,
    *,
    load_id: str,
    full_refresh: bool = False,
    lookback: timedelta = timedelta(hours=24),
) -> LoadResult:
    """Extract one table's delta (or everything) and merge it into raw.<table> in one transaction.

    The lookback re-reads rows updated shortly before the watermark: updates that arrive late with an
    older updated_at are still picked up, and the merge makes the re-read harmless.
    """
    started = time.perf_counter()
    ensure_raw_schema(con)
    con.execute(raw_table_ddl(table))
    extra_columns = reader.check_columns(table)
    watermark_before = read_watermark(con, table.name)
    incremental = watermark_before is not None and not full_refresh
    batch = reader.read(table, updated_since=watermark_before - lookback if incremental else None)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)

    con.execute("BEGIN TRANSACTION")
    try:
        con.register("source_batch", batch)
        duplicates = _stage_batch(con, table, load_id=load_id, loaded_at=loaded_at)
        target = f"{RAW_SCHEMA}.{table.name}"
        key_match = " AND ".join(f'{target}."{k}" = batch."{k}"' for k in table.primary_key)
        rows_updated = con.execute(
            f"SELECT count(*) FROM batch WHERE EXISTS (SELECT 1 FROM {target} WHERE {key_match})"
        ).fetchone()[0]
        rows_in_batch = con.execute("SELECT count(*) FROM batch").fetchone()[0]
        hard_deleted = 0
        if incremental:
            con.execute(f"DELETE FROM {target} USING batch WHERE {key_match}")
        else:
            hard_deleted = _record_hard_deletes(con, table, load_id=load_id, detected_at=loaded_at)
            con.execute(f"DELETE FROM {target}")
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM batch")
        batch_max = con.execute("SELECT max(updated_at) FROM batch").fetchone()[0]
        candidates = [w for w in (batch_max, watermark_before if incremental else None) if w is not None]
        watermark_after = max(candidates, default=None)
        con.execute(
            f"INSERT OR REPLACE INTO {EXTRACT_STATE_TABLE} VALUES (?, ?, ?, ?)",
            [table.name, watermark_after, load_id, loaded_at],
        )
        con.execute("DROP TABLE batch")
        con.unregister("source_batch")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise

    return LoadResult(
        table=table.name,
        load_id=load_id,
        mode="incremental" if incremental else "full_refresh",
        rows_read=batch.num_rows,
        rows_inserted=rows_in_batch - rows_updated,
        rows_updated=rows_updated,
        duplicate_source_rows=duplicates,
        hard_deleted=hard_deleted,
        watermark_before=watermark_before,
        watermark_after=watermark_after,
        extra_source_columns=extra_columns,
        seconds=round(time.perf_counter() - started, 3),
    )


def _stage_batch(con: duckdb.DuckDBPyConnection, table: SourceTable, *, load_id: str, loaded_at: datetime) -> int:
    """Cast the Arrow batch to contract types into a temp table, one row per key; return duplicates dropped.

    Exact or conflicting copies of a key are collapsed to the newest updated_at; the count is reported so
    the quality gate (not the loader) decides whether duplicates in the source are acceptable.
    """
    null_keys = con.execute(
        "SELECT count(*) FROM source_batch WHERE " + " OR ".join(f'"{k}" IS NULL' for k in table.primary_key)
    ).fetchone()[0]
    if null_keys:
        raise SourceContractError(
            f"source table {table.name!r}: {null_keys} row(s) with a null primary key {list(table.primary_key)}; "
            "rows without a key cannot be merged: fix them in the CRM database"
        )
    casts = ", ".join(f'CAST("{c.name}" AS {duckdb_type(c)}) AS "{c.name}"' for c in table.columns)
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    try:
        con.execute(
            f"CREATE TEMP TABLE batch AS SELECT {casts}, ?::VARCHAR AS {LOAD_ID_COLUMN}, "
            f"?::TIMESTAMP AS {LOADED_AT_COLUMN} FROM source_batch "
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY updated_at DESC NULLS LAST) = 1",
            [load_id, loaded_at],
        )
    except duckdb.Error as error:
        raise SourceContractError(f"source table {table.name!r} has a value that breaks its contract type: {error}") from error
    kept = con.execute("SELECT count(*) FROM batch").fetchone()[0]
    return con.execute("SELECT count(*) FROM source_batch").fetchone()[0] - kept


def _record_hard_deletes(con: duckdb.DuckDBPyConnection, table: SourceTable, *, load_id: str, detected_at: datetime) -> int:
    """On a full refresh: keys held in raw but no longer in the source were hard-deleted there."""
    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    key_text = "CAST(struct_pack(" + ", ".join(f'"{k}" := "{k}"' for k in table.primary_key) + ") AS VARCHAR)"
    vanished = f"SELECT {keys} FROM {RAW_SCHEMA}.{table.name} EXCEPT SELECT {keys} FROM batch"
    con.execute(
        f"INSERT INTO {HARD_DELETES_TABLE} SELECT ?, {key_text}, ?, ? FROM ({vanished})",
        [table.name, detected_at, load_id],
    )
    return con.execute(
        f"SELECT count(*) FROM {HARD_DELETES_TABLE} WHERE table_name = ? AND load_id = ?", [table.name, load_id]
    ).fetchone()[0]
