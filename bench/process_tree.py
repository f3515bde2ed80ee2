"""Run a child process and sample the resident memory of its whole process tree from /proc.

ru_maxrss only sees one process; the pipeline's dbt runs in subprocesses, so the peak a machine must
provide is the sum over the tree. Sums of RSS count pages shared between processes more than once, so the
figure errs on the high side. Linux only (reads /proc), without a dependency such as psutil.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class MemoryTrace:
    """(unix time, bytes) samples of a process tree, and the window they cover."""

    samples: list[tuple[float, int]] = field(default_factory=list)

    def peak_mb(self, start: float | None = None, end: float | None = None) -> float:
        """The highest sample between start and end (unix times), or over the whole trace.

        The samples just before and after the window count too: a step shorter than the sampling interval
        still gets the memory the tree held around it.
        """
        inside = [
            i for i, (t, _) in enumerate(self.samples) if (start is None or t >= start) and (end is None or t <= end)
        ]
        before = [i for i, (t, _) in enumerate(self.samples) if start is not None and t < start][-1:]
        after = [i for i, (t, _) in enumerate(self.samples) if end is not None and t > end][:1]
        window = [self.samples[i][1] for i in before + inside + after]
        return round(max(window, default=0) / 2**20, 1)


def _children(pid: int) -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_rss_bytes(pid: int) -> int:
    """Resident bytes of pid and every descendant."""
    tree = _children(pid)
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * _PAGE_BYTES
        except OSError:
            continue
        pending.extend(tree.get(current, []))
    return total


def run_sampled(command: list[str], *, env: dict[str, str] | None = None, interval: float = 0.2) -> MemoryTrace:
    """Run command to completion (raising on a non-zero exit) while sampling its tree's memory."""
    trace = MemoryTrace()
    process = subprocess.Popen(command, env=env)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            trace.samples.append((time.time(), tree_rss_bytes(process.pid)))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        returncode = process.wait()
    finally:
        done.set()
        sampler.join()
    if returncode:
        raise subprocess.CalledProcessError(returncode, command)
    return trace
