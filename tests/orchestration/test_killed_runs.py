"""A run killed with its process never blocks the next one (issue: one killed run made every later run wait,
silently, for a pool slot nothing would free). The same, end to end with `crm-warehouse run` killed while dbt
builds and at every other point of the job: tests/orchestration/test_crash_points.py.

The next run finds the dead one, marks it failed (alerted like any failed run), ends what it left writing,
frees its pool slot and goes on, in one line; a run that waits for a live writer says for whom every few
seconds; and the daemon's run monitoring fails a run whose worker is gone.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from orchestration.names import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.run_worker import RunWorker
from orchestration.writer_lock import WRITER_LOCK_TAG, LockHolder, WriterLock, writer_lock_path
from tests.orchestration.conftest import OpsFolder, alert_run_failure

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture()
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """An instance with the shipped single-machine settings (SQLite storage, pool limit 1, our launcher)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@dg.asset(pool=WAREHOUSE_POOL)
def writes_the_warehouse(warehouse: WarehouseResource) -> None:
    """Stands in for any of the job's steps: it needs the warehouse, so its run holds the writer lock."""
    with warehouse.connect() as con:
        con.execute("create table if not exists written as select 1 as one")


def warehouse_in(folder: Path) -> WarehouseResource:
    return WarehouseResource(path=str(folder / "warehouse.duckdb"), published_path=str(folder / "published.duckdb"))


def dead_worker() -> RunWorker:
    """The worker record of a process that has exited."""
    process = subprocess.Popen(["true"])
    worker = RunWorker.process(process.pid)
    process.wait()
    return worker


def running_run(instance: dg.DagsterInstance, worker: RunWorker, lock_path: Path) -> dg.DagsterRun:
    """A crm_elt run that shows as STARTED, its worker and the lock recorded as the job records them."""
    run = dg.DagsterRun(
        job_name="crm_elt",
        run_id=str(uuid.uuid4()),
        status=dg.DagsterRunStatus.STARTED,
        tags={**worker.as_tag(), WRITER_LOCK_TAG: str(lock_path)},
    )
    instance.add_run(run)
    return run


def hold_pool_slot(instance: dg.DagsterInstance, run: dg.DagsterRun, step_key: str = "crm_dbt_models") -> None:
    instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    assert instance.event_log_storage.claim_concurrency_slot(WAREHOUSE_POOL, run.run_id, step_key).is_claimed


def messages_of(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(run_id)]


def test_a_run_finds_a_dead_writer_marks_it_failed_ends_its_dbt_frees_its_slot_and_goes_on(
    instance: dg.DagsterInstance, tmp_path: Path
):
    lock_path = writer_lock_path(tmp_path / "warehouse.duckdb")
    dead = running_run(instance, dead_worker(), lock_path)
    hold_pool_slot(instance, dead)
    still_writing = subprocess.Popen(["sleep", "60"])  # the dead run's dbt build, orphaned
    lock_path.write_text(
        LockHolder(
            dead.run_id, RunWorker.of(dead), "2026-12-07T06:00:00+00:00", [RunWorker.process(still_writing.pid)]
        ).text()
    )

    result = dg.materialize([writes_the_warehouse], resources={"warehouse": warehouse_in(tmp_path)}, instance=instance)

    assert result.success
    assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
    assert still_writing.wait(timeout=10) == -signal.SIGKILL
    assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots == []
    (said,) = [message for message in messages_of(instance, result.run_id) if "died without finishing" in message]
    assert said.startswith(f"run {dead.run_id} (pid {RunWorker.of(dead).pid} on ")
    assert said.endswith(f"marked failed by run {result.run_id}, its pool slots freed")
    (failure,) = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure.dagster_event.message == said
    assert lock_path.read_text() == ""  # released: nobody holds the warehouse


def test_the_dead_run_is_alerted_like_any_failed_run(instance: dg.DagsterInstance, tmp_path: Path, ops_crm: OpsFolder):
    lock_path = writer_lock_path(tmp_path / "warehouse.duckdb")
    dead = running_run(instance, dead_worker(), lock_path)
    assert dg.materialize(
        [writes_the_warehouse], resources={"warehouse": warehouse_in(tmp_path)}, instance=instance
    ).success

    definitions = ops_crm.definitions(CRM_ALERTS_LOG=str(tmp_path / "alerts.jsonl"))
    (failure,) = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    alert_run_failure(definitions, instance, instance.get_run_by_id(dead.run_id), failure.dagster_event)

    (alert,) = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert alert["run_id"] == dead.run_id and "died without finishing" in alert["message"]


def test_a_run_leaves_a_live_writer_alone_and_says_every_few_seconds_whom_it_waits_for(
    instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("orchestration.writer_lock.WAIT_NOTE_SECONDS", 1.0)
    lock_path = writer_lock_path(tmp_path / "warehouse.duckdb")
    live = running_run(instance, RunWorker.this_process(), lock_path)
    writer = WriterLock(lock_path)
    assert writer.try_acquire()
    writer.record(LockHolder(live.run_id, RunWorker.this_process(), "2026-12-07T06:00:00+00:00"))
    results = []
    waiting = threading.Thread(
        target=lambda: results.append(
            dg.materialize([writes_the_warehouse], resources={"warehouse": warehouse_in(tmp_path)}, instance=instance)
        )
    )
    waiting.start()
    try:
        notes = wait_for_notes(instance, live.run_id, count=2)
    finally:
        writer.release()
    waiting.join(timeout=60)

    assert notes[0].startswith(f"waiting for the warehouse: run {live.run_id} (pid {os.getpid()} on ")
    assert "writing it since 2026-12-07T06:00:00+00:00" in notes[0]
    (result,) = results
    assert result.success
    assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED  # alive: not touched


def wait_for_notes(instance: dg.DagsterInstance, holder_run_id: str, *, count: int) -> list[str]:
    """The waiting run's notes naming the holder, once there are `count` of them (30 s at most)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = [run for run in instance.get_runs() if run.run_id != holder_run_id]
        notes = [m for run in waiting for m in messages_of(instance, run.run_id) if m.startswith("waiting for")]
        if len(notes) >= count:
            return notes
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} waiting notes in 30 s")


def test_run_monitoring_fails_a_run_whose_worker_is_gone_and_leaves_a_live_one(
    instance: dg.DagsterInstance, tmp_path: Path
):
    from dagster._daemon.monitoring.run_monitoring import monitor_started_run

    from orchestration.run_launcher import CrmRunLauncher

    assert isinstance(instance.run_launcher, CrmRunLauncher)
    lock_path = writer_lock_path(tmp_path / "warehouse.duckdb")
    dead = running_run(instance, dead_worker(), lock_path)
    live = running_run(instance, RunWorker.this_process(), lock_path)
    for run in (dead, live):
        monitor_started_run(instance, None, instance.get_run_record_by_id(run.run_id), logging.getLogger("test"))

    assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED
    (failure,) = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert "is gone (killed or crashed)" in failure.dagster_event.message


def test_a_worker_whose_pid_now_belongs_to_another_process_is_gone():
    recycled = RunWorker.this_process()
    assert recycled.is_gone() is False
    assert RunWorker(recycled.host, recycled.pid, started="1").is_gone() is True
    assert RunWorker("another-host", recycled.pid, recycled.started).is_gone() is None
