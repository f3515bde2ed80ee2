"""Which process runs a Dagster run, and whether it still does.

A run killed with its process (kill -9, an out-of-memory kill, a machine restart) cannot say so: its status
stays STARTED for ever. Each run therefore records its worker (host, pid and the process's start time) as a
run tag when it starts, and anyone on the same host can later tell whether that process is gone. The start
time guards against a recycled pid: a new process with the dead worker's pid is not the worker.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

import dagster as dg

RUN_WORKER_TAG = "crm/run_worker"


@dataclass(frozen=True)
class RunWorker:
    host: str
    pid: int
    started: str  # the process's start time as the kernel counts it (/proc/<pid>/stat); "" where unknown

    @classmethod
    def this_process(cls) -> RunWorker:
        return cls.process(os.getpid())

    @classmethod
    def process(cls, pid: int) -> RunWorker:
        """A process of this host (the run's own, or a child it started)."""
        return cls(host=socket.gethostname(), pid=pid, started=_process_start(pid))

    @classmethod
    def of(cls, run: dg.DagsterRun) -> RunWorker | None:
        """The worker a run recorded, or None (it died before recording one, or predates the tag)."""
        recorded = run.tags.get(RUN_WORKER_TAG)
        return cls(**json.loads(recorded)) if recorded else None

    def as_tag(self) -> dict[str, str]:
        return {RUN_WORKER_TAG: json.dumps(asdict(self))}

    def is_gone(self) -> bool | None:
        """True when the process has exited (or its pid now belongs to another process); None when it runs on
        another host, where this process cannot look."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, owned by another user
            pass
        return bool(self.started) and _process_start(self.pid) != self.started

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


def _process_start(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); "" without /proc or for a gone pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    return stat[stat.rindex(")") + 2 :].split()[19]
