"""Dagster resources: the CRM source and the DuckDB warehouse, configured from Settings."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from orchestration.settings import DEFAULT_STORAGE_VERSION
from orchestration.source_reader import SourceReader


class CrmSourceResource(dg.ConfigurableResource):
    """The CRM's operational database (CRM_SOURCE_URL)."""

    url: str

    def reader(self) -> SourceReader:
        return SourceReader(self.url)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file the pipeline writes (CRM_WAREHOUSE_PATH) and its published copy (CRM_PUBLISHED_PATH).

    One writer at a time: see the executor and run-concurrency settings in definitions.
    """

    path: str
    published_path: str
    published_storage_version: str = DEFAULT_STORAGE_VERSION
    memory_limit: str = "4GB"
    threads: int = 2

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(self.path, config={"memory_limit": self.memory_limit, "threads": self.threads})
        try:
            con.execute("SET TimeZone = 'UTC'")  # source timestamps are UTC; never shift them
            yield con
        finally:
            con.close()
