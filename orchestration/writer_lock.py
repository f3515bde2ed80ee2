"""One run writes the warehouse at a time, and a run that died while writing never blocks the next one.

Dagster's pool (WAREHOUSE_POOL, limit 1) serializes steps, not runs, and a run killed with its process
(kill -9, an out-of-memory kill, a machine restart) keeps its pool slot and its STARTED status for ever:
every later run waited for that slot, silently. So each run, before its first step, takes an exclusive
OS lock on a file beside the warehouse (the kernel drops it when the process dies, however it dies) and
writes there who holds it. Then:

- a run that finds the lock held waits, saying every few seconds which run holds it and since when;
- a run that gets the lock while the instance still shows an earlier run of this lock as running, with its
  process gone, knows that run died: it marks it failed (the failure sensor alerts it like any failed run),
  ends the processes the dead run started that still write (its dbt build), frees its pool slots, says so in
  one line, and goes on.

The lock is per machine: the warehouse file's folder. Deployments whose runs start on several machines rely
on run monitoring instead (orchestration/run_launcher.py and deploy/dagster.production.yaml).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

# Every asset that writes the warehouse shares this pool (limit 1 in deploy/dagster*.yaml).
from orchestration.names import WAREHOUSE_POOL
from orchestration.run_worker import RunWorker

WRITER_LOCK_TAG = "crm/writer_lock"
# How often a waiting run says what it waits for.
WAIT_NOTE_SECONDS = 5.0
_POLL_SECONDS = 0.5
_RUNNING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def writer_lock_path(warehouse_path: str | Path) -> Path:
    return Path(f"{warehouse_path}.writer.lock")


@dataclass
class LockHolder:
    """What the lock file says about the run holding it: which run, its worker, since when, and the
    processes it started that write the warehouse too (dbt)."""

    run_id: str
    worker: RunWorker
    since: str
    children: list[RunWorker] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        if not text.strip():
            return None
        record = json.loads(text)
        return cls(
            record["run_id"],
            RunWorker(**record["worker"]),
            record["since"],
            [RunWorker(**child) for child in record.get("children", [])],
        )

    def text(self) -> str:
        return json.dumps(asdict(self))


class WriterLock:
    """An exclusive flock on `path`, with the holder's record as the file's content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def holder(self) -> LockHolder | None:
        """The record of the run holding the lock, or of the last run that held it."""
        try:
            return LockHolder.parse(self.path.read_text())
        except (OSError, ValueError, KeyError, TypeError):  # not written yet, or torn by a crash mid-write
            return None

    def record(self, holder: LockHolder) -> None:
        assert self._fd is not None, "record() needs the lock"
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, holder.text().encode(), 0)

    def add_child(self, child: RunWorker) -> None:
        holder = self.holder()
        assert holder is not None, "add_child() needs a recorded holder"
        holder.children.append(child)
        self.record(holder)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


@contextmanager
def warehouse_held_by_run(context: dg.InitResourceContext, lock_path: Path) -> Iterator[WriterLock]:
    """Hold the warehouse for this run: wait for a live writer, recover dead ones, release at the end."""
    instance, run, log = context.instance, context.run, context.log
    worker = RunWorker.this_process()
    # Tagged before waiting: a run killed while it waits is recognised as dead too.
    instance.add_run_tags(run.run_id, {**worker.as_tag(), WRITER_LOCK_TAG: str(lock_path)})
    lock = WriterLock(lock_path)
    wait_until(lock.try_acquire, note=lambda waited: log.info(_lock_wait_note(lock, waited)))
    try:
        previous = lock.holder()
        lock.record(LockHolder(run.run_id, worker, _now()))
        if previous is not None and previous.worker.is_gone():
            _end_orphans(previous, log)
        recover_dead_runs(instance, lock_path, run.run_id, log)
        wait_until(
            lambda: _pool_is_free(instance, run.run_id),
            note=lambda waited: log.info(_pool_wait_note(instance, run.run_id, waited)),
        )
        yield lock
    finally:
        lock.release()


def recover_dead_runs(instance: dg.DagsterInstance, lock_path: Path, our_run_id: str, log) -> list[str]:
    """Mark failed the runs of this lock that still show as running but whose process is gone; free the pool
    slots of those and of any run that has ended. Returns the ids of the runs marked failed."""
    recovered = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_RUNNING, tags={WRITER_LOCK_TAG: str(lock_path)})):
        worker = RunWorker.of(run)
        if run.run_id == our_run_id or worker is None or not worker.is_gone():
            continue
        started = _run_start(instance, run.run_id)
        message = (
            f"run {run.run_id} ({worker}, started {started}) died without finishing: "
            f"marked failed by run {our_run_id}, its pool slots freed"
        )
        instance.report_run_failed(run, message)
        _free_slots(instance, run.run_id)
        log.warning(message)
        recovered.append(run.run_id)
    for run_id in _slot_holders(instance) - {our_run_id}:
        holder = instance.get_run_by_id(run_id)
        if holder is None or holder.is_finished:
            _free_slots(instance, run_id)
            log.info(f"freed the {WAREHOUSE_POOL} pool slots of run {run_id}, which has ended")
    return recovered


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def wait_until(ready: Callable[[], bool], *, note: Callable[[float], None]) -> None:
    """Poll `ready` until it holds, calling `note` with the seconds waited every WAIT_NOTE_SECONDS."""
    started = next_note = time.monotonic()
    while not ready():
        now = time.monotonic()
        if now >= next_note:
            note(now - started)
            next_note = now + WAIT_NOTE_SECONDS
        time.sleep(_POLL_SECONDS)


def _end_orphans(previous: LockHolder, log) -> None:
    """The dead run's children (its dbt build) outlive it and keep writing the warehouse: end them."""
    for child in previous.children:
        if child.is_gone() is False:
            os.kill(child.pid, signal.SIGKILL)
            log.warning(f"ended {child}, a process of dead run {previous.run_id} still writing the warehouse")


def _lock_wait_note(lock: WriterLock, waited: float) -> str:
    holder = lock.holder()
    if holder is None:
        return f"waiting for the warehouse ({lock.path} is locked by a run starting up; {waited:.0f} s so far)"
    return (
        f"waiting for the warehouse: run {holder.run_id} ({holder.worker}) has been writing it since "
        f"{holder.since} ({waited:.0f} s so far)"
    )


def _pool_is_free(instance: dg.DagsterInstance, our_run_id: str) -> bool:
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    others = [slot for slot in info.claimed_slots if slot.run_id != our_run_id]
    return not others or info.limit is None or len(info.claimed_slots) < info.limit


def _pool_wait_note(instance: dg.DagsterInstance, our_run_id: str, waited: float) -> str:
    """Which run's step holds the pool's slot and since when (a run of another lock or an older version)."""
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    assigned = {(step.run_id, step.step_key): step.assigned_timestamp for step in info.pending_steps}
    holders = "; ".join(
        f"run {slot.run_id} step {slot.step_key} since {assigned.get((slot.run_id, slot.step_key)) or 'unknown'}"
        for slot in info.claimed_slots
        if slot.run_id != our_run_id
    )
    return (
        f"waiting for a slot of pool {WAREHOUSE_POOL}: held by {holders} ({waited:.0f} s so far); "
        "a holder that is dead can be freed in the Dagster UI (Deployment → Concurrency)"
    )


def _slot_holders(instance: dg.DagsterInstance) -> set[str]:
    return {slot.run_id for slot in instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots}


def _run_start(instance: dg.DagsterInstance, run_id: str) -> str:
    record = instance.get_run_record_by_id(run_id)
    start = record.start_time if record is not None else None
    return datetime.fromtimestamp(start, UTC).isoformat(timespec="seconds") if start else "at an unknown time"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
