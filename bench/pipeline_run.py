"""One crm_elt run in this process, timed step by step: the child process that bench/run.py samples.

    python -m bench.pipeline_run --out timings.json     (settings from the CRM_* environment, as in production)

Step times come from Dagster's own events (step start and success), so they are what the Dagster UI shows.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

STAGES = ("extract", "gate_1", "dbt", "gate_2", "publish")


def stage_of(step_key: str) -> str:
    """The benchmark stage a step of crm_elt belongs to (extract = the landing steps plus the raw merge)."""
    if step_key.startswith("landing__") or step_key == "raw_tables":
        return "extract"
    if step_key in ("gate_1", "gate_2"):
        return step_key
    if step_key.startswith("published"):
        return "publish"
    if "dbt" in step_key:
        return "dbt"
    raise ValueError(f"crm_elt step {step_key!r} belongs to no benchmark stage: add it to bench/pipeline_run.stage_of")


@dataclass(frozen=True)
class StepTiming:
    step_key: str
    stage: str
    started_at: float  # unix time, to match the memory samples
    ended_at: float
    seconds: float


@dataclass(frozen=True)
class JobTiming:
    success: bool
    seconds: float
    steps: list[StepTiming]
    rows_read: int
    published_row_counts: dict[str, int]
    dbt_breakdown: dict[str, object]

    def stage_seconds(self) -> dict[str, float]:
        return {stage: round(sum(s.seconds for s in self.steps if s.stage == stage), 2) for stage in STAGES}


def run_crm_elt() -> JobTiming:
    """crm_elt on the files the environment names, with a throwaway run history, as `crm-warehouse run` does it.

    Like the CLI, it writes the dbt manifest first with this run's settings: dbt re-parses the whole project
    on every run whose profile or vars differ from the ones the manifest was parsed with (about a minute
    under load at any scale), a cost of how the job is started rather than of the pipeline.
    """
    import dagster as dg

    from orchestration.dbt_project import prepare_dbt_manifest
    from orchestration.settings import Settings

    settings = Settings.from_environment()
    settings.export_to_environment()
    prepare_dbt_manifest()
    from orchestration.definitions import build_definitions  # its dbt assets read the manifest just written

    job = build_definitions(settings).resolve_job_def("crm_elt")
    with dg.DagsterInstance.ephemeral() as instance:
        started_at, started = time.time(), time.perf_counter()
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        seconds = time.perf_counter() - started
        entries = [e for e in instance.all_logs(result.run_id) if e.dagster_event is not None and e.step_key]
    starts = {e.step_key: e.timestamp for e in entries if e.dagster_event.is_step_start}
    steps = [
        StepTiming(
            e.step_key,
            stage_of(e.step_key),
            starts[e.step_key],
            e.timestamp,
            round(e.dagster_event.event_specific_data.duration_ms / 1000, 3),
        )
        for e in entries
        if e.dagster_event.is_step_success
    ]
    metadata = {
        event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata
        for event in result.all_events
        if event.is_step_materialization
    }
    rows_read = sum(int(m["rows_read"].value) for key, m in metadata.items() if key.startswith("landing/"))
    published = metadata.get("published/crm_warehouse", {}).get("row_counts")
    return JobTiming(
        success=result.success,
        seconds=round(seconds, 2),
        steps=steps,
        rows_read=rows_read,
        published_row_counts=dict(published.value) if published else {},
        dbt_breakdown=dbt_breakdown(since=started_at),
    )


def dbt_breakdown(*, since: float) -> dict[str, object]:
    """Where `dbt build` spent its time, from the run_results.json dagster-dbt left for this run.

    Node times add up to more than dbt's elapsed time when threads overlap; what the dbt step took beyond
    dbt's elapsed time is the dbt process starting and parsing, outside any node.
    """
    from orchestration.dbt_project import crm_dbt_project
    from orchestration.transform import dbt_artifacts_dir

    written = [
        p
        for p in dbt_artifacts_dir(crm_dbt_project.project_dir).glob("*/run_results.json")
        if p.stat().st_mtime >= since
    ]
    if not written:
        return {}
    results = json.loads(max(written, key=lambda p: p.stat().st_mtime).read_text())
    by_type: dict[str, dict[str, float]] = {}
    for node in results["results"]:
        kind = by_type.setdefault(node["unique_id"].split(".")[0], {"nodes": 0, "seconds": 0.0})
        kind["nodes"] += 1
        kind["seconds"] = round(kind["seconds"] + node["execution_time"], 2)
    slowest = sorted(results["results"], key=lambda node: -node["execution_time"])[:8]
    return {
        "elapsed_seconds": round(results["elapsed_time"], 2),
        "by_resource_type": by_type,
        "slowest": {node["unique_id"]: round(node["execution_time"], 2) for node in slowest},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    timing = run_crm_elt()
    out.write_text(json.dumps({**asdict(timing), "stage_seconds": timing.stage_seconds()}))


if __name__ == "__main__":
    main()
