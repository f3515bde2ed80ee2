"""Data Docs older than CRM_QUALITY_DOCS_KEEP_DAYS go, results and pages alike; newer ones stay."""

from __future__ import annotations

from datetime import datetime

from orchestration.quality.docs_retention import forget_validations_before


def test_results_and_pages_of_old_runs_go_and_empty_folders_with_them(tmp_path):
    old, new = "20260501T060000.000000Z", "20260629T060000.000000Z"
    for root, suffix in (("store/results", "json"), ("validations", "html")):
        for run_time in (old, new):
            folder = tmp_path / root / "raw" / "opportunities" / f"run-{run_time[:8]}" / run_time
            folder.mkdir(parents=True)
            (folder / f"warehouse-raw.opportunities.{suffix}").write_text("{}")
    (tmp_path / "index.html").write_text("<html/>")

    assert forget_validations_before(tmp_path, datetime(2026, 6, 1)) == 2

    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == [
        "index.html",
        f"store/results/raw/opportunities/run-20260629/{new}/warehouse-raw.opportunities.json",
        f"validations/raw/opportunities/run-20260629/{new}/warehouse-raw.opportunities.html",
    ]
    assert not (tmp_path / "validations" / "raw" / "opportunities" / "run-20260501").exists()
