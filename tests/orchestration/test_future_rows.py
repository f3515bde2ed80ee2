"""A run names a row dated beyond the watermark's cap: a WARNING in the run log and the raw asset's metadata
(issue 21 §2). The loader's behaviour itself, on both engines, is tested in tests/extract/test_watermark_cap.py."""

from __future__ import annotations

import logging
import sqlite3

import dagster as dg

from tests.orchestration.conftest import OpsFolder, run_extract
from tests.support.pipeline import materialization_metadata

A_YEAR_AHEAD = "2027-06-30 10:00:00.000000"


def test_a_run_names_the_future_row_in_a_warning_and_in_the_raw_assets_metadata(ops_crm: OpsFolder, tmp_path):
    ops = ops_crm.copy_to(tmp_path / "data")
    with sqlite3.connect(ops.data_dir / "crm.sqlite") as src:
        (future,) = src.execute("SELECT min(opportunity_id) FROM opportunities WHERE closed_at IS NULL").fetchone()
        src.execute(
            "UPDATE opportunities SET created_at = ?, updated_at = ? WHERE opportunity_id = ?",
            [A_YEAR_AHEAD, A_YEAR_AHEAD, future],
        )
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_extract(ops.definitions(), instance, "opportunities")
        warnings = [
            entry.user_message
            for entry in instance.all_logs(result.run_id)
            if entry.level == logging.WARNING and "watermark stops at" in entry.user_message
        ]
    assert result.success
    (warning,) = warnings
    assert warning.startswith(
        "opportunities: 1 row(s) updated after 2026-07-01 00:00:00, the end of the as-of date 2026-06-30"
    )
    assert f"{{'opportunity_id': {future}}} updated_at 2027-06-30 10:00:00" in warning
    assert "rule: a watermark never passes the end of the as-of date nor the extract's clock" in warning
    merged = materialization_metadata(result, "raw", "opportunities")
    assert merged["watermark_after"] == "2026-07-01T00:00:00"
    assert merged["rows_beyond_watermark_cap"] == {
        "cap": {"at": "2026-07-01T00:00:00", "by_as_of_date": True, "timezone": None},  # the contract's times: UTC
        "rows": 1,
        "first": [{"opportunity_id": future, "updated_at": "2027-06-30T10:00:00"}],
        "watermark": "updated_at",
    }
