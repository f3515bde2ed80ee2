"""Dagster resources: the CRM source, the DuckDB warehouse, the file-drop folder and the alerts, configured from Settings."""

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from crm_contract import SourceTable
from orchestration.alerts import append_alert, post_alert
from orchestration.file_drops import DroppedFile, FileLedger, LandingFolder, drop_files_of, sha256_of
from orchestration.file_modes import private_files
from orchestration.file_reader import FileContractError, FileReader
from orchestration.incremental_load import RawLoader
from orchestration.names import MARTS_SCHEMA
from orchestration.raw_schema import LANDING_SCHEMA
from orchestration.run_worker import RunWorker
from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_PUBLISHED_FILE_MODE, DEFAULT_STORAGE_VERSION
from orchestration.source_check import check_source
from orchestration.source_reader import SourceReader
from orchestration.source_system import CONTRACT, source_system
from orchestration.transient_errors import SourceRetries
from orchestration.warehouse_sql import SqlSession
from orchestration.warehouses import Warehouse, warehouse_class
from orchestration.writer_lock import WriterLock, warehouse_held_by_run, writer_lock_path


class CrmSourceResource(dg.ConfigurableResource):
    """The CRM's operational database (CRM_SOURCE_URL), checked once when a run that reads it starts."""

    url: str
    retries: int  # CRM_SOURCE_RETRIES
    retry_seconds: float  # CRM_SOURCE_RETRY_SECONDS
    lookback_hours: int  # CRM_EXTRACT_LOOKBACK_HOURS
    as_of_date: str  # CRM_AS_OF_DATE, YYYY-MM-DD; empty: today
    system: str = CONTRACT  # CRM_SOURCE_SYSTEM: which tables the database must hold

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Check the source before any landing step runs (orchestration/source_check.py).

        Dagster initialises a run's resources once, before its steps, and only the resources its steps use: a run
        that lands no table never checks, nor does a file-drop run that reads only its files.
        """
        if context.run is None or not reads_the_database(context.run):
            return
        as_of = date.fromisoformat(self.as_of_date) if self.as_of_date else None
        check_source(
            self.url,
            self._retries(),
            as_of=as_of,
            on_retry=context.log.warning if context.log else None,
            system=self.system,
        )

    def reader(self, on_retry: Callable[[str], None] | None = None) -> SourceReader:
        """A reader that retries transient errors (CRM_SOURCE_RETRIES) and reports each retry to `on_retry`."""
        return SourceReader(self.url, self._retries(), on_retry=on_retry)

    def lookback(self) -> timedelta:
        """How far before a table's watermark an incremental read starts (late-arriving updates)."""
        return timedelta(hours=self.lookback_hours)

    def _retries(self) -> SourceRetries:
        return SourceRetries(self.retries, self.retry_seconds)


def reads_the_database(run: dg.DagsterRun) -> bool:
    """Whether the run lands a table from the CRM database: any run but a file-drop run whose landed tables all
    come from dropped files (orchestration/extract.py reads a table's file when the run's tag names one)."""
    drops = drop_files_of(run.tags)
    if not drops or run.asset_selection is None:
        return True
    return any(key.path[0] == LANDING_SCHEMA and key.path[-1] not in drops for key in run.asset_selection)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse the pipeline writes (CRM_WAREHOUSE_TARGET), configured from the settings: the DuckDB file
    (CRM_WAREHOUSE_PATH) and its published copy (CRM_PUBLISHED_PATH), or a Postgres database (CRM_PG_*) whose
    `marts` schema is the published one. What differs between targets is their Warehouse (for_target()).

    One writer at a time: a run holds the warehouse's writer lock from before its first step to after its last
    (orchestration/writer_lock.py), and its steps run one after another (the executor in definitions).

    Private while in use: the warehouse file, its .wal and whatever else the run and its dbt build create are
    their owner's alone; the published copies get published_file_mode (orchestration/file_modes.py).
    """

    target: str = "duckdb"
    path: str
    published_path: str
    published_storage_version: str = DEFAULT_STORAGE_VERSION
    published_file_mode: int = DEFAULT_PUBLISHED_FILE_MODE
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    threads: int = 2
    # Where dbt builds the published models (settings.marts_build_schema).
    marts_schema: str = MARTS_SCHEMA
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_dbname: str = "crm_warehouse"
    pg_user: str = "crm_loader"
    reader_role: str = "crm_reader"
    spark_dir: str = ""  # Spark: its warehouse folder (CRM_SPARK_DIR)
    raw_parquet_dir: str = ""  # Spark: where raw tables are written as Parquet for dbt (CRM_RAW_PARQUET_DIR)
    _writer_lock: WriterLock | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseResource"]:
        """In a run, hold the warehouse for the whole run; outside one (a test's direct use), just the resource.
        Either way under a private umask, which the dbt build inherits."""
        with private_files():
            if context.instance is None or context.run is None:
                yield self
                return
            with warehouse_held_by_run(context, writer_lock_path(self.path)) as lock:
                self._writer_lock = lock
                try:
                    yield self
                finally:
                    self._writer_lock = None

    def note_writer_process(self, pid: int) -> None:
        """A process this run started that writes the warehouse too (its dbt build): if this run dies, the next
        run ends it before writing."""
        if self._writer_lock is not None:
            self._writer_lock.add_child(RunWorker.process(pid))

    def for_target(self) -> Warehouse:
        """The target's Warehouse (orchestration/warehouses/), built from this resource's settings."""
        return warehouse_class(self.target)(self)

    def connect(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """The DuckDB file (targets duckdb and spark)."""
        return self.for_target().connect()

    def session(self) -> AbstractContextManager[SqlSession]:
        """The target's warehouse, for the few queries the gates and counts need (orchestration/warehouse_sql.py)."""
        return self.for_target().session()

    def relation_schemas(self) -> dict[str, str]:
        """Where a mart suite's `marts.<model>` and `snapshots.<snapshot>` are, in this target's gate session."""
        return self.for_target().relation_schemas()

    def raw_loader(self) -> RawLoader:
        """Lands and merges source batches into the target's raw schema (same steps and guarantees on each)."""
        return self.for_target().raw_loader()


class FileDropResource(dg.ConfigurableResource):
    """The file-drop folder (CRM_LANDING_DIR) and the ledger of files already dealt with (orchestration/file_drops.py)."""

    landing_dir: str
    ledger_path: str
    # A file changed less than this long ago may still be being written: the sensor leaves it for a later tick.
    settle_seconds: float = 10.0
    source_system: str = CONTRACT  # CRM_SOURCE_SYSTEM: a file may hold one of its tables

    def folder(self) -> LandingFolder:
        return LandingFolder(
            Path(self.landing_dir),
            settle_seconds=self.settle_seconds,
            tables=source_system(self.source_system).tables,
        )

    def ledger(self) -> FileLedger:
        return FileLedger(Path(self.ledger_path))

    def reader(self, drop: Mapping[str, str]) -> FileReader:
        """The run's file for one table, checked to be the very content the sensor accepted."""
        path = self.folder().path_of(drop["file"])
        if not path.is_file():
            raise FileContractError(
                f"{drop['file']}: no longer in {self.landing_dir} (archived or rejected by an earlier run?); "
                "drop it again to load it"
            )
        if sha256_of(path) != drop["sha256"]:
            raise FileContractError(
                f"{drop['file']}: changed since the sensor accepted it (another checksum); "
                "drop it again to load the new content"
            )
        return FileReader(path)

    def reject(self, drop: Mapping[str, str], table: str, reason: str, *, run_id: str) -> Path | None:
        """Move the run's file to rejected/ with its reason and record it in the ledger; None if it is gone already."""
        file = DroppedFile(self.folder().path_of(drop["file"]), self._table(table), drop["sha256"])
        if not file.path.is_file():
            return None
        rejected = self.folder().reject(file.path, reason)
        self.ledger().record(file, outcome="rejected", run_id=run_id, reason=reason)
        return rejected

    def archive_loaded(self, drop: Mapping[str, str], table: str, *, run_id: str, rows: int) -> Path | None:
        """Record the run's file as loaded, then move it to archive/; None if it is no longer in the landing
        folder (a re-executed run whose file was rejected after the first attempt failed)."""
        file = DroppedFile(self.folder().path_of(drop["file"]), self._table(table), drop["sha256"])
        self.ledger().record(file, outcome="loaded", run_id=run_id, rows=rows)
        return self.folder().archive(file.path) if file.path.is_file() else None

    def _table(self, name: str) -> SourceTable:
        return source_system(self.source_system).table(name)


class AlertResource(dg.ConfigurableResource):
    """Where failed runs are reported: a JSON-lines log (CRM_ALERTS_LOG) and an optional webhook (CRM_ALERT_WEBHOOK_URL)."""

    log_path: str
    webhook_url: str | None = None
    webhook_timeout_seconds: float = 5.0

    def send(self, alert: dict[str, object]) -> list[str]:
        """Log the alert and POST it; what went wrong, if anything (never raised: a sensor must not crash)."""
        problems = [append_alert(Path(self.log_path), alert)]
        if self.webhook_url:
            problems.append(post_alert(self.webhook_url, alert, timeout_seconds=self.webhook_timeout_seconds))
        return [problem for problem in problems if problem]
