"""Transient source errors: a CRM database locked for a few seconds when a run starts is waited out by the run's
source check, with retries and backoff; one that stays locked fails the run before any step, naming the URL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.alerts import error_text
from tests.orchestration.conftest import OpsFolder, run_extract


@contextmanager
def locked_for(database: Path, seconds: float) -> Iterator[None]:
    """Hold an exclusive SQLite lock on the source from another thread, released after `seconds`."""
    locked = threading.Event()

    def hold() -> None:
        con = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        con.execute("BEGIN EXCLUSIVE")
        locked.set()
        threading.Event().wait(seconds)
        con.execute("ROLLBACK")
        con.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait()
    try:
        yield
    finally:
        holder.join()


def retry_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The run log's retry lines (context.log messages are in the event log, not among the Dagster events)."""
    return [entry.user_message for entry in instance.all_logs(run_id) if "; retry " in entry.user_message]


def test_a_source_locked_for_a_few_seconds_is_retried_and_the_run_succeeds(ops_crm: OpsFolder, tmp_path):
    ops = ops_crm.copy_to(tmp_path / "data")
    definitions = ops.definitions(CRM_SOURCE_RETRIES="4", CRM_SOURCE_RETRY_SECONDS="1")
    with dg.DagsterInstance.ephemeral() as instance:
        with locked_for(ops.data_dir / "crm.sqlite", seconds=3):
            result = run_extract(definitions, instance, "users")
        retries = retry_messages(instance, result.run_id)
    assert result.success
    assert retries and retries[0].startswith(f"CRM_SOURCE_URL={ops.source_url!r}: ")
    assert "database is locked" in retries[0] and retries[0].endswith("retry 1 of 4 in 1.0 s")
    with duckdb.connect(str(ops.warehouse_path), read_only=True) as con:  # the retried read was merged
        assert con.execute("select count(*) from raw.users where _load_id = ?", [result.run_id]).fetchone()[0] > 0


def test_a_source_that_stays_locked_fails_the_run_before_any_step_naming_the_url(ops_crm: OpsFolder, tmp_path):
    ops = ops_crm.copy_to(tmp_path / "data")
    definitions = ops.definitions(CRM_SOURCE_RETRIES="1", CRM_SOURCE_RETRY_SECONDS="0.5")
    with dg.DagsterInstance.ephemeral() as instance, locked_for(ops.data_dir / "crm.sqlite", seconds=6):
        result = run_extract(definitions, instance, "users")
    assert not result.success
    assert not [event for event in result.all_events if event.is_step_start]
    message = error_text(result.get_run_failure_event().event_specific_data.error)
    assert "SourceUnavailableError" in message
    assert f"CRM_SOURCE_URL={ops.source_url!r}: the CRM database was still unavailable after 2 attempt(s)" in message
    assert "database is locked" in message
