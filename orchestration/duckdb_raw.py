"""The DuckDB warehouse's part of the raw loader (orchestration/incremental_load.py holds the steps themselves).

A batch is scanned where it lies (the source's Arrow batch, or a table DuckDB reads itself) and typed into
landing.<table> with typed_batch_query. A full refresh's batch is written once, as `raw._landed_<table>` with
`landing.<table>` a view of it, and renamed to `raw.<table>` on merge: DuckDB cannot move a table between
schemas, and copying 19M rows cost 3.5 s. typed_batch_query is also how the Postgres warehouse types its
batches (orchestration/postgres_raw.py), so both land identical rows.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

import duckdb

from crm_contract import SourceTable
from orchestration.disk_space import is_disk_full
from orchestration.incremental_load import Mode
from orchestration.raw_schema import (
    LANDING_SCHEMA,
    LOAD_ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    duckdb_type,
    watermark_sql,
)
from orchestration.source_reader import BATCH_RELATION, BatchReader, SourceContractError
from orchestration.warehouse_sql import DuckDBSession

# Where a full refresh's batch is written, in the raw schema so that the merge can rename it into place.
FULL_REFRESH_BATCH_PREFIX = "_landed_"


class DuckDBRawEngine:
    """incremental_load's RawEngine on one DuckDB connection."""

    loads_dropped_files = True

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.session = DuckDBSession(con)

    def batch(
        self, reader: BatchReader, table: SourceTable, *, updated_since: datetime | None
    ) -> AbstractContextManager[str]:
        """The batch as a relation of this connection: the one landing step whatever the batch's route (an Arrow
        batch, or a table DuckDB scanned itself), so both land the same rows and fail with the same errors."""
        return reader.batch_in(self.con, table, updated_since=updated_since)

    def write_batch(
        self, batch: str, table: SourceTable, *, mode: Mode, load_id: str, landed_at: datetime
    ) -> tuple[int, int, datetime | None]:
        con = self.con
        landing = f"{LANDING_SCHEMA}.{table.name}"
        # A full refresh's batch becomes the raw table as it is: written where the merge can rename it into place.
        written = _full_refresh_batch(table) if mode == "full_refresh" else landing
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
        return rows_read, rows_landed, max_updated_at

    def replace_raw(self, table: SourceTable) -> None:
        """The batch renamed into place; landing.<table> stays the batch, a view of raw.<table> now: gate 1 reads
        it as the pending batch of a table a later run does not land (a file drop of another table), which merges
        nothing."""
        con, target, landing = self.con, f"{RAW_SCHEMA}.{table.name}", f"{LANDING_SCHEMA}.{table.name}"
        if _relation_type(con, _full_refresh_batch(table)) is not None:
            con.execute(f"DROP TABLE {target}")
            con.execute(f"ALTER TABLE {_full_refresh_batch(table)} RENAME TO {table.name}")
            con.execute(f"CREATE OR REPLACE VIEW {landing} AS SELECT * FROM {target}")
        else:  # a batch landed as a table (by an earlier version of this loader, or by hand): copied
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {landing}")


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


def check_keys_present(con: duckdb.DuckDBPyConnection, table: SourceTable, batch: str = BATCH_RELATION) -> None:
    null_keys = con.execute(
        f"SELECT count(*) FROM {batch} WHERE " + " OR ".join(f'"{k}" IS NULL' for k in table.primary_key)
    ).fetchone()[0]
    if null_keys:
        raise SourceContractError(
            f"source table {table.name!r}: {null_keys} row(s) with a null primary key {list(table.primary_key)}; "
            "rows without a key cannot be merged: fix them in the CRM database"
        )


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
