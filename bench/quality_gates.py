"""Measure what the quality gates cost inside a real crm_elt run: a full load, then a one-day delta.

    python bench/quality_gates.py --source /path/to/crm.sqlite --data-dir /tmp/gates-bench [--as-of 2026-06-30]

The source is copied into the data folder (the delta run advances the copy's clock by one day), and the
job runs in this process on that folder's files. Printed: seconds per step of each run, gate 1 and gate 2
against the whole run, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run_once(label: str) -> None:
    from bench.pipeline_run import run_crm_elt

    timing = run_crm_elt()
    steps: dict[str, float] = defaultdict(float)
    for step in timing.steps:
        steps["landing (17 steps)" if step.step_key.startswith("landing__") else step.step_key] += step.seconds
    gates = steps["gate_1"] + steps["gate_2"]
    print(
        f"\n{label}: {'ok' if timing.success else 'FAILED'} in {timing.seconds:.1f} s; "
        f"gates {gates:.1f} s = {gates / timing.seconds:.0%} of the run"
    )
    for name, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"  {name:<28} {seconds:8.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--as-of", default="")
    args = parser.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=True)
    source = args.data_dir / "crm.sqlite"
    shutil.copy(args.source, source)
    os.environ.update(
        {
            "CRM_DATA_DIR": str(args.data_dir),
            "CRM_SOURCE_URL": f"sqlite:///{source}",
            "CRM_WAREHOUSE_PATH": str(args.data_dir / "warehouse.duckdb"),
            "CRM_PUBLISHED_PATH": str(args.data_dir / "published" / "crm.duckdb"),
            "CRM_AS_OF_DATE": args.as_of,
        }
    )
    from orchestration.dbt_project import prepare_dbt_manifest

    prepare_dbt_manifest()
    run_once("full load")
    import simulator

    simulator.advance(f"sqlite:///{source}", days=1)
    if args.as_of:  # the delta's day is after a pinned as-of date: move it along, as a daily run would
        from datetime import date, timedelta

        os.environ["CRM_AS_OF_DATE"] = (date.fromisoformat(args.as_of) + timedelta(days=1)).isoformat()
    run_once("one-day delta")
    print(f"\npeak memory of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
