"""The benchmark: generate the simulated CRM at each scale, run crm_elt in full and after one simulated day,
and the bare-engine baseline; print a table and write JSON.

    python -m bench --scales 10k,100k,1m          # sources cached in data/bench/, results in data/bench/results-*.json
    python -m bench --source /tmp/crm_1m.sqlite   # reuse an existing CRM file (it is copied, never changed)
    python -m bench --scales 1m --repeat 3        # each scale three times; the median runs are reported

For each scale, in a fresh folder data/bench/runs/<scale>/:
1. full: crm_elt on a copy of the source (python -m bench.pipeline_run, a child process);
2. baseline: `dbt compile` against that warehouse, then the same work in one plain DuckDB connection
   (python -m bench.baseline, a child process, into a file of its own);
3. incremental: the copy advanced by one simulated day, and crm_elt again.
The memory of each child's whole process tree (dbt runs as a grandchild) is sampled from /proc.
docs/benchmarks.md has the figures and what they mean.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.pipeline_run import STAGES
from bench.process_tree import MemoryTrace, run_sampled
from bench.report import print_report
from bench.sources import cached_source, opportunities_in, parse_scale, scale_label, working_copy
from bench.targets import check_targets
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

DEFAULT_WORK_DIR = PROJECT_ROOT / "data" / "bench"
DEFAULT_END_DATE = date(2026, 11, 20)


def pipeline_environment(run_dir: Path, source: Path, as_of: date) -> dict[str, str]:
    """The CRM_* settings of one run folder, on top of this process's environment (PATH, PYTHONPATH)."""
    return {
        **os.environ,
        "CRM_DATA_DIR": str(run_dir),
        "CRM_SOURCE_URL": f"sqlite:///{source}",
        "CRM_WAREHOUSE_PATH": str(run_dir / "warehouse.duckdb"),
        "CRM_PUBLISHED_PATH": str(run_dir / "published" / "crm.duckdb"),
        "CRM_AS_OF_DATE": as_of.isoformat(),
        "DAGSTER_HOME": str(run_dir / "dagster_home"),
    }


def run_child(
    module: str, args: list[str], env: dict[str, str], out: Path
) -> tuple[dict[str, Any], MemoryTrace, float]:
    """python -m module in a child process: its JSON output, its tree's memory trace and its wall seconds."""
    started = time.perf_counter()
    trace = run_sampled([sys.executable, "-m", module, *args, "--out", str(out)], env=env)
    return json.loads(out.read_text()), trace, round(time.perf_counter() - started, 2)


def measure_pipeline(env: dict[str, str], out: Path) -> dict[str, Any]:
    """One crm_elt run: seconds and peak memory per stage and in total, rows/s, file sizes."""
    timing, trace, process_seconds = run_child("bench.pipeline_run", [], env, out)
    if not timing["success"]:
        raise RuntimeError(f"crm_elt failed in {env['CRM_DATA_DIR']}: see its output above")
    stages = {}
    for stage in STAGES:
        steps = [s for s in timing["steps"] if s["stage"] == stage]
        stages[stage] = {
            "seconds": timing["stage_seconds"][stage],
            "peak_mb": max((trace.peak_mb(s["started_at"], s["ended_at"]) for s in steps), default=0.0),
        }
    extract_seconds = stages["extract"]["seconds"]
    return {
        "stages": stages,
        "total": {"seconds": timing["seconds"], "peak_mb": trace.peak_mb()},
        "process_seconds": process_seconds,
        "rows_read": timing["rows_read"],
        "extract_rows_per_second": round(timing["rows_read"] / extract_seconds) if extract_seconds else None,
        "warehouse_bytes": file_bytes(Path(env["CRM_WAREHOUSE_PATH"])),
        "published_bytes": file_bytes(Path(env["CRM_PUBLISHED_PATH"])),
        "published_row_counts": timing["published_row_counts"],
        "dbt_breakdown": timing["dbt_breakdown"],
    }


def compile_models(env: dict[str, str], target_path: Path) -> Path:
    """`dbt compile --full-refresh` against the warehouse the full run built: the SQL of a first build.

    It must run against real data: some models ask the warehouse a value at compile time (the first day
    of the calendar, the first exchange rate). --full-refresh compiles incremental models as first builds.
    """
    from orchestration.dbt_project import dbt_executable

    # dbt reads partial-parse state from the target path: start from the one the full run's manifest left
    # (same settings), as dagster-dbt does, or dbt parses the whole project again.
    target_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(DBT_PROJECT_DIR / "target" / "partial_parse.msgpack", target_path)
    subprocess.run(
        [
            dbt_executable(),
            "--quiet",
            "compile",
            "--full-refresh",
            "--select",
            "resource_type:model",
            "resource_type:seed",
            "resource_type:snapshot",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target_path),
        ],
        env=env,
        check=True,
        cwd=DBT_PROJECT_DIR,
    )
    return target_path / "manifest.json"


def measure_baseline(source: Path, manifest: Path, run_dir: Path, settings: Settings) -> dict[str, Any]:
    baseline_dir = run_dir / "baseline"
    baseline_dir.mkdir()
    warehouse = baseline_dir / settings.warehouse_path.name  # the catalog name the compiled SQL uses
    published = baseline_dir / "published.duckdb"
    args = [
        "--source",
        str(source),
        "--manifest",
        str(manifest),
        "--warehouse",
        str(warehouse),
        "--published",
        str(published),
        "--memory-limit",
        settings.duckdb_memory_limit,
        "--threads",
        str(settings.duckdb_threads),
    ]
    timing, trace, process_seconds = run_child("bench.baseline", args, dict(os.environ), baseline_dir / "timings.json")
    stages = {
        stage: {"seconds": t["seconds"], "peak_mb": trace.peak_mb(t["started_at"], t["ended_at"])}
        for stage, t in timing["stages"].items()
    }
    total_seconds = round(sum(s["seconds"] for s in stages.values()), 2)
    return {
        "stages": stages,
        "total": {"seconds": total_seconds, "peak_mb": trace.peak_mb()},
        "process_seconds": process_seconds,
        "rows_read": timing["rows_read"],
        "extract_rows_per_second": round(timing["rows_read"] / stages["extract"]["seconds"]),
        "warehouse_bytes": file_bytes(warehouse),
        "published_bytes": file_bytes(published),
        "published_row_counts": timing["published_row_counts"],
    }


def advance_one_day(source: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "simulator", "advance", "--url", f"sqlite:///{source}", "--days", "1"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def bench_scale(source: Path, run_dir: Path, as_of: date, *, baseline: bool, repeat: int = 1) -> dict[str, Any]:
    """The full run, the baseline and the incremental run, `repeat` times, each time on a fresh copy.

    Each of the three is reported by its median repeat (the upper one of an even number), taken whole so that
    its stages add up; the ratios and targets are computed from those. One run's seconds move by a few percent
    between identical runs, enough to put a 2x ratio on either side of its target.
    """
    opportunities = opportunities_in(source)
    label = scale_label(opportunities)
    runs = [
        measure_scale_once(source, run_dir, as_of, label=label, baseline=baseline, attempt=f"{n + 1}/{repeat}")
        for n in range(repeat)
    ]
    result: dict[str, Any] = {
        "scale": label,
        "opportunities": opportunities,
        "source_bytes": file_bytes(source),
        "as_of_date": as_of.isoformat(),
        "repeat": repeat,
    }
    for run in runs[0]:
        result[run] = sorted((r[run] for r in runs), key=lambda measured: measured["total"]["seconds"])[len(runs) // 2]
    if repeat > 1:
        result["repeats"] = [{run: r[run]["total"]["seconds"] for run in r} for r in runs]
    if baseline:
        result["ours_over_baseline"] = ratios(result["full"], result["baseline"])
    result["incremental"]["share_of_full"] = ratios(result["incremental"], result["full"])
    result["targets"] = check_targets(result)
    return result


def measure_scale_once(
    source: Path, run_dir: Path, as_of: date, *, label: str, baseline: bool, attempt: str
) -> dict[str, dict[str, Any]]:
    copy = working_copy(source, run_dir)
    env = pipeline_environment(run_dir, copy, as_of)
    settings = Settings.from_environment(env)
    print(f"[{label} {attempt}] full run", flush=True)
    measured = {"full": measure_pipeline(env, run_dir / "full.json")}
    if baseline:
        print(f"[{label} {attempt}] baseline", flush=True)
        manifest = compile_models(env, run_dir / "compiled")
        measured["baseline"] = measure_baseline(copy, manifest, run_dir, settings)
    print(f"[{label} {attempt}] one simulated day, then the incremental run", flush=True)
    advance_one_day(copy)
    incremental_env = {**env, "CRM_AS_OF_DATE": (as_of + timedelta(days=1)).isoformat()}
    measured["incremental"] = measure_pipeline(incremental_env, run_dir / "incremental.json")
    return measured


def ratios(ours: dict[str, Any], other: dict[str, Any]) -> dict[str, float | None]:
    """ours / other seconds for every stage both have, and in total."""
    pairs = {
        **{s: (ours["stages"][s], other["stages"].get(s)) for s in ours["stages"]},
        "total": (ours["total"], other["total"]),
    }
    return {
        name: round(a["seconds"] / b["seconds"], 2) if b and b["seconds"] else None for name, (a, b) in pairs.items()
    }


def file_bytes(path: Path) -> int:
    """A DuckDB file's size, with its write-ahead log if one was left."""
    wal = Path(f"{path}.wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def machine() -> dict[str, Any]:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales", default="10k,100k,1m", help="opportunities per scale, comma-separated (default: 10k,100k,1m)"
    )
    parser.add_argument(
        "--source", type=Path, help="benchmark this CRM file instead of generated ones (copied, never changed)"
    )
    parser.add_argument("--seed", type=int, default=42, help="simulator seed of generated sources (default: 42)")
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"last simulated day of the sources, and the full run's as-of date (default: {DEFAULT_END_DATE})",
    )
    parser.add_argument(
        "--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="cached sources and run folders (default: data/bench)"
    )
    parser.add_argument(
        "--json", type=Path, help="where to write the results (default: <work-dir>/results-<timestamp>.json)"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare-engine baseline")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each scale this many times and report the median runs (default: 1)",
    )
    args = parser.parse_args(argv)

    work_dir = args.work_dir.resolve()
    if args.source:
        sources = [args.source.resolve()]
    else:
        sources = [
            cached_source(work_dir, parse_scale(s), seed=args.seed, end_date=args.end_date)
            for s in args.scales.split(",")
        ]
    started_at = datetime.now(UTC)
    results: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine_before": machine(),
        "scales": [],
    }
    for source in sources:
        run_dir = work_dir / "runs" / scale_label(opportunities_in(source))
        results["scales"].append(
            bench_scale(source, run_dir, args.end_date, baseline=not args.no_baseline, repeat=args.repeat)
        )
    results["machine_after"] = machine()
    out = args.json or work_dir / f"results-{started_at.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print_report(results)
    print(f"\nresults: {out}")
