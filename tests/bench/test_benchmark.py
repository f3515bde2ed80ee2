"""The benchmark at a tiny scale, so that it cannot rot: every stage measured, and a baseline that did the same work.

One run of `python -m bench` at 300 opportunities (a full run, the baseline and an incremental run: two
`dbt build`s, about 4.5 CPU-minutes) is shared by every test here. The figures themselves are
not asserted: speed belongs in the benchmark's output, not in a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.pipeline_run import STAGES

ROOT = Path(__file__).resolve().parents[2]
BASELINE_STAGES = ("extract", "dbt", "publish")


@pytest.fixture(scope="session")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work_dir = tmp_path_factory.mktemp("bench")
    out = work_dir / "results.json"
    subprocess.run(
        [sys.executable, "-m", "bench", "--scales", "300", "--work-dir", str(work_dir), "--json", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def scale(results: dict[str, Any]) -> dict[str, Any]:
    (only,) = results["scales"]
    return only


def test_the_source_was_generated_at_the_scale_asked(scale: dict[str, Any]) -> None:
    assert scale["scale"] == "300"
    assert scale["opportunities"] == 300


@pytest.mark.parametrize("run", ["full", "incremental"])
def test_every_stage_of_both_runs_has_seconds_and_memory(scale: dict[str, Any], run: str) -> None:
    measured = scale[run]
    assert set(measured["stages"]) == set(STAGES)
    for stage, figures in [*measured["stages"].items(), ("total", measured["total"])]:
        assert figures["seconds"] > 0, (run, stage)
        assert figures["peak_mb"] > 50, (run, stage)  # a Python process with DuckDB holds more than this
    assert measured["total"]["seconds"] >= sum(s["seconds"] for s in measured["stages"].values())
    assert measured["extract_rows_per_second"] > 0
    assert measured["warehouse_bytes"] > 0 and measured["published_bytes"] > 0
    dbt_nodes = measured["dbt_breakdown"]["by_resource_type"]  # read from the build's run_results.json
    assert dbt_nodes["model"]["nodes"] > 40 and dbt_nodes["test"]["nodes"] > 200


def test_the_incremental_run_reads_a_delta_and_reports_its_share(scale: dict[str, Any]) -> None:
    assert 0 < scale["incremental"]["rows_read"] < scale["full"]["rows_read"]
    share = scale["incremental"]["share_of_full"]
    assert set(share) == {*STAGES, "total"}
    assert all(value > 0 for value in share.values())


def test_the_baseline_published_the_same_rows_as_the_pipeline(scale: dict[str, Any]) -> None:
    ours, baseline = scale["full"]["published_row_counts"], scale["baseline"]["published_row_counts"]
    assert len(ours) > 20 and sum(ours.values()) > 0
    assert baseline == ours
    assert scale["baseline"]["rows_read"] == scale["full"]["rows_read"]


def test_the_baseline_times_every_stage_it_does_and_is_compared_with_ours(scale: dict[str, Any]) -> None:
    baseline = scale["baseline"]
    assert set(baseline["stages"]) == set(BASELINE_STAGES)
    assert all(s["seconds"] > 0 and s["peak_mb"] > 0 for s in baseline["stages"].values())
    ratios = scale["ours_over_baseline"]
    assert all(ratios[stage] > 0 for stage in (*BASELINE_STAGES, "total"))
    assert ratios["gate_1"] is None and ratios["gate_2"] is None  # the bare engine runs no gates


def test_every_target_is_evaluated(scale: dict[str, Any]) -> None:
    assert set(scale["targets"]) == {
        "full_over_baseline",
        "incremental_share_of_full",
        "peak_mb",
        "extract_rows_per_second",
        "gates_share_of_full",
    }
    assert all(t["met"] in (True, False) for t in scale["targets"].values())
