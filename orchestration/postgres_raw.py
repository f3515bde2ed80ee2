"""The Postgres warehouse's part of the raw loader (orchestration/incremental_load.py holds the steps themselves).

A batch is typed and deduplicated in an in-memory DuckDB with the very query the DuckDB warehouse uses
(duckdb_raw.typed_batch_query), so both warehouses land identical rows (the same copy of a duplicated key
included), then streamed to `landing.<table>` with COPY. A full refresh's batch replaces raw.<table>'s rows in
the merge's transaction. Dropped files are not loaded here: their exports go through the CRM database.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.csv
import sqlalchemy as sa

from crm_contract import SourceTable
from orchestration.duckdb_raw import check_keys_present, typed_batch_query
from orchestration.incremental_load import EngineRawLoader, Mode
from orchestration.raw_schema import (
    LANDING_SCHEMA,
    LOAD_ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    raw_table_ddl,
    watermark_sql,
)
from orchestration.source_reader import BatchReader, SourceContractError
from orchestration.warehouse_sql import PostgresSession


class PostgresRawLoader(EngineRawLoader):
    """The raw and landing schemas of a Postgres warehouse, written through one psycopg2 connection per step."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(self._engine)

    @contextmanager
    def _engine(self) -> Iterator[PostgresRawEngine]:
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
            yield PostgresRawEngine(PostgresSession(con))
        finally:
            con.close()


class PostgresRawEngine:
    """incremental_load's RawEngine on one Postgres connection."""

    loads_dropped_files = False

    def __init__(self, session: PostgresSession) -> None:
        self.session = session

    @contextmanager
    def batch(self, reader: BatchReader, table: SourceTable, *, updated_since: datetime | None) -> Iterator[pa.Table]:
        yield reader.read(table, updated_since=updated_since)

    def write_batch(
        self, batch: pa.Table, table: SourceTable, *, mode: Mode, load_id: str, landed_at: datetime
    ) -> tuple[int, int, datetime | None]:
        typed, max_updated_at = _typed_batch(batch, table, load_id=load_id, landed_at=landed_at)
        landing = f"{LANDING_SCHEMA}.{table.name}"
        self.session.execute(f"DROP TABLE IF EXISTS {landing}")
        self.session.execute(raw_table_ddl(table, name=landing))
        with self.session.con.cursor() as cursor:
            _copy_into(cursor, landing, typed)
        return batch.num_rows, typed.num_rows, max_updated_at

    def replace_raw(self, table: SourceTable) -> None:
        target, landing = f"{RAW_SCHEMA}.{table.name}", f"{LANDING_SCHEMA}.{table.name}"
        columns = ", ".join(f'"{c}"' for c in [*table.column_names, LOAD_ID_COLUMN, LOADED_AT_COLUMN])
        self.session.execute(f"DELETE FROM {target}")
        self.session.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {landing}")


def _typed_batch(
    source_batch: pa.Table, table: SourceTable, *, load_id: str, landed_at: datetime
) -> tuple[pa.Table, datetime | None]:
    """The batch typed and deduplicated as the DuckDB warehouse does it, and its newest watermark (None: no rows,
    or a table read whole)."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("source_batch", source_batch)
        check_keys_present(con, table, "source_batch")
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
