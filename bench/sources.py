"""The simulated CRMs the benchmark runs on: generated once per scale and seed, then reused from data/bench/."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import simulator


def parse_scale(text: str) -> int:
    """Opportunities from '10k', '100k', '1m' or a plain number."""
    match = re.fullmatch(r"(\d+)([km]?)", text.strip().lower())
    if not match:
        raise ValueError(f"scale {text!r} is not a number of opportunities such as 400, 10k or 1m")
    return int(match[1]) * {"": 1, "k": 1_000, "m": 1_000_000}[match[2]]


def scale_label(opportunities: int) -> str:
    for size, suffix in ((1_000_000, "m"), (1_000, "k")):
        if opportunities >= size and opportunities % size == 0:
            return f"{opportunities // size}{suffix}"
    return str(opportunities)


def cached_source(cache_dir: Path, opportunities: int, *, seed: int, end_date: date) -> Path:
    """The CRM of this scale, seed and last day, generated on first use (the file name is the cache key)."""
    path = cache_dir / f"crm-{opportunities}-seed{seed}-{end_date.isoformat()}.sqlite"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        print(f"generating {path.name} (once; later runs reuse it)", flush=True)
        simulator.generate(
            f"sqlite:///{partial}", opportunities=opportunities, seed=seed, end_date=end_date, quiet=True
        )
        partial.rename(path)
    return path


def opportunities_in(source: Path) -> int:
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as con:
        return con.execute("SELECT count(*) FROM opportunities").fetchone()[0]


def working_copy(source: Path, run_dir: Path) -> Path:
    """A fresh folder holding a copy of the source: the incremental run advances the copy, never the cache."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    copy = run_dir / "crm.sqlite"
    shutil.copyfile(source, copy)
    return copy
