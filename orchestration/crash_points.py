"""A test-only switch that kills the job at a named point, so that CI can crash it deterministically there.

`CRM_TEST_CRASH_AT=<point>` makes the process kill itself with SIGKILL when it reaches that point, as an
out-of-memory kill or `kill -9` would: no handler runs, no file is closed, no run status is written. The
fault tests (tests/orchestration/test_crash_points.py) crash a run at each point and prove the next normal run
recovers by itself. Unset (always, outside those tests), a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_AT_VARIABLE = "CRM_TEST_CRASH_AT"
# Where the job can be crashed, in the order a run reaches them.
CRASH_POINTS = (
    "landing",  # after the first table's batch is landed (every landing step writes the same way)
    "raw_merge",  # inside the merge's transaction, every table merged, before COMMIT
    "raw_merged",  # after the merge committed, before the step reports it
    "gate_1",  # gate 1 validated, before its results are reported
    "dbt",  # dbt has built its first model (the build goes on in the orphaned dbt process)
    "gate_2",  # gate 2 validated, before its results are reported
    "publish_before_rename",  # the new version (file, Parquet, dashboard) written, not yet swapped in
    "publish_after_rename",  # the new version swapped in, the old one not yet removed
    "dashboard",  # the dashboard drawn into the new version, before the other files are shared
)


def crash_point(name: str) -> None:
    """Die here if CRM_TEST_CRASH_AT names this point."""
    if os.environ.get(CRASH_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
