"""Alerts for failed runs: one JSON line per failure in the alerts log, and a POST to a webhook when set.

A run that fails in the middle of the night should say so where someone looks in the morning: the log is
the record (one object per line, easy to grep or ship), the webhook (Slack, Teams, PagerDuty, a chat bot)
is the nudge. Sending an alert must never fail the sensor that sends it, so every problem is returned as
text for the sensor's log instead of raised.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster_shared.error import SerializableErrorInfo


def error_text(error: SerializableErrorInfo | None) -> str:
    """An error with its causes, as the Dagster UI shows them (a gate's message is often a cause)."""
    parts = []
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return "\n".join(parts)


def failure_alert(
    run: dg.DagsterRun, message: str, step_errors: dict[str, str], rejected_files: dict[str, str] | None = None
) -> dict[str, object]:
    """What a failed run's alert says: which run, which steps failed and why, and files it rejected."""
    return {
        "alerted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "event": "run_failure",
        "job": run.job_name,
        "run_id": run.run_id,
        "message": message,
        "failed_steps": step_errors,
        "rejected_files": rejected_files or {},
        "tags": {key: value for key, value in run.tags.items() if not key.startswith("dagster/")},
    }


def append_alert(log_path: Path, alert: dict[str, object]) -> str | None:
    """Append the alert as one JSON line; the problem as text if the log cannot be written."""
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(alert, default=str) + "\n")
    except OSError as error:
        return f"could not write the alert to {log_path}: {error}"
    return None


def post_alert(url: str, alert: dict[str, object], *, timeout_seconds: float) -> str | None:
    """POST the alert as JSON; the problem as text if the webhook is unreachable or answers with an error."""
    request = urllib.request.Request(
        url, data=json.dumps(alert, default=str).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as error:  # HTTPError is a URLError; ValueError: bad URL
        return f"could not POST the alert to CRM_ALERT_WEBHOOK_URL: {error}"
    return None
