"""Dagster's default run launcher, with the worker health check that run monitoring needs.

The daemon's run monitoring fails a run whose worker died only if the run launcher can check its workers;
Dagster's DefaultRunLauncher cannot, so a run whose worker process was killed stayed STARTED (holding its
pool slot) until the 4-hour runtime limit. Every run of this project records its worker (orchestration/
run_worker.py) as it starts: this launcher reads it, so run monitoring fails the run within one poll, and the
run-retry and failure-alert machinery take over as for any failed run. Named in deploy/dagster*.yaml.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

from orchestration.run_worker import RunWorker


class CrmRunLauncher(dg.DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        worker = RunWorker.of(run)
        if worker is None:  # not started far enough to record it: the start timeout covers that stretch
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker recorded yet")
        gone = worker.is_gone()
        if gone is None:  # another host's process: only that host can tell; the runtime limit still applies
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker {worker} is on another host")
        if gone:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker {worker} is gone (killed or crashed)")
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker {worker} is alive")
