"""Target duckdb (the default): one DuckDB file (CRM_WAREHOUSE_PATH) holds landing, raw and every model; publish
copies the published models to a read-only file (CRM_PUBLISHED_PATH), Parquet files and the dashboard."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.disk_space import naming_a_full_disk
from orchestration.file_modes import WAREHOUSE_FILE_MODE
from orchestration.incremental_load import DuckDBRawLoader, RawLoader
from orchestration.names import MARTS_SCHEMA
from orchestration.quality.validation import GeConnection
from orchestration.warehouse_sql import DuckDBSession, SqlSession
from orchestration.warehouses import TargetDefaults


class DuckDBWarehouse(TargetDefaults):
    target = "duckdb"
    build_schema = MARTS_SCHEMA
    has_duckdb_file = True
    keeps_snapshots = True
    dbt_reads_raw_parquet = False

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse's DuckDB file."""
        path = self.config.path
        with self._file_full_disk_named():
            con = duckdb.connect(
                path, config={"memory_limit": self.config.memory_limit, "threads": self.config.threads}
            )
            try:
                # New under a run's umask; made by an older release, or by a direct use, it may be wider.
                os.chmod(path, WAREHOUSE_FILE_MODE)
                con.execute("SET TimeZone = 'UTC'")  # source timestamps are UTC; never shift them
                yield con
            finally:
                con.close()

    def full_disk_named(self) -> AbstractContextManager[None]:
        return self._file_full_disk_named()

    def _file_full_disk_named(self) -> AbstractContextManager[None]:
        return naming_a_full_disk(Path(self.config.path), "the warehouse (CRM_WAREHOUSE_PATH)")

    def raw_loader(self) -> RawLoader:
        return DuckDBRawLoader(self.connect)

    @contextmanager
    def session(self) -> Iterator[SqlSession]:
        with self.connect() as con:
            yield DuckDBSession(con)

    def ge_connection(self) -> GeConnection:
        return GeConnection(
            url=f"duckdb:///{self.config.path}",
            connect_args={"config": {"memory_limit": self.config.memory_limit, "threads": self.config.threads}},
        )

    def publish(
        self, context: dg.AssetExecutionContext, models: list[tuple[str, str]], *, with_dashboard: bool
    ) -> Iterator[dg.MaterializeResult]:
        from orchestration.publish import publish_duckdb_file  # publish builds on the dbt assets' manifest

        with self.connect() as con:
            yield from publish_duckdb_file(
                context,
                con,
                models,
                Path(self.config.published_path),
                self.config.published_storage_version,
                self.config.published_file_mode,
                with_dashboard=with_dashboard,
            )

    def published_where(self) -> str:
        return str(self.config.published_path)


WAREHOUSE = DuckDBWarehouse
