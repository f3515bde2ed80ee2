"""Each warehouse engine's raw loader, with what a test reads back from it: a raw table's rows and a watermark.

Tests that must hold on DuckDB and on Postgres alike take the `raw_engine` fixture (tests/extract/conftest.py)
and go through the loader's own two steps, as the Dagster assets do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb

from crm_contract import SourceTable
from orchestration.incremental_load import DuckDBRawLoader, LandResult, MergeResult, RawLoader, read_watermark
from orchestration.postgres_raw import PostgresRawLoader
from orchestration.source_reader import BatchReader
from tests.support.raw_comparison import postgres_rows, postgres_watermark, raw_rows


@dataclass(frozen=True)
class RawEngine:
    name: str
    loader: RawLoader
    rows: Callable[[str], list[tuple]]  # a raw table's contract columns, sorted
    watermark: Callable[[str], datetime | None]

    def load(
        self,
        reader: BatchReader,
        table: SourceTable,
        *,
        load_id: str,
        as_of_end: datetime | None = None,
        **land_options,
    ) -> tuple[LandResult, MergeResult]:
        """Land and merge one table straight away (no gate in between)."""
        landed = self.loader.land_table(reader, table, load_id=load_id, **land_options)
        (merged,) = self.loader.merge_landed([table], as_of_end=as_of_end)
        return landed, merged


def duckdb_engine(path: Path) -> RawEngine:
    @contextmanager
    def connect() -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(str(path)) as con:
            con.execute("SET TimeZone = 'UTC'")
            yield con

    def rows(table_name: str) -> list[tuple]:
        with connect() as con:
            return raw_rows(con, table_name)

    def watermark(table_name: str) -> datetime | None:
        with connect() as con:
            return read_watermark(con, table_name)

    return RawEngine("duckdb", DuckDBRawLoader(connect), rows, watermark)


def postgres_engine(url: str) -> RawEngine:
    loader = PostgresRawLoader(url)
    return RawEngine("postgres", loader, partial(postgres_rows, url), partial(postgres_watermark, url))
