"""The daily schedule asks for a crm_elt run; a failed run writes an alert line and POSTs it to the webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from tests.orchestration.conftest import OpsFolder, alert_run_failure, evaluate_sensor, run_extract
from tests.support.file_drops import customers_export, drop


def test_the_daily_schedule_requests_a_crm_elt_run_at_the_configured_time(ops_crm: OpsFolder):
    definitions = ops_crm.definitions(CRM_SCHEDULE_CRON="30 5 * * *", CRM_SCHEDULE_TIMEZONE="Asia/Shanghai")
    schedule = definitions.resolve_schedule_def("crm_elt_daily")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 5 * * *", "Asia/Shanghai")
    tick = datetime(2026, 7, 1, 5, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.job_name in (None, "crm_elt") and schedule.job_name == "crm_elt"
    assert request.tags.get("crm/full_refresh") is None  # the daily run is incremental


@dataclass
class Webhook:
    url: str
    received: list[dict]


@pytest.fixture()
def webhook() -> Iterator[Webhook]:
    """A local webhook on 127.0.0.1 that keeps every JSON body POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Webhook(f"http://127.0.0.1:{server.server_port}/alerts", received)
    server.shutdown()
    server.server_close()


def test_a_failed_run_is_alerted_in_the_log_and_on_the_webhook_and_its_file_rejected(
    ops_crm: OpsFolder, tmp_path, webhook: Webhook
):
    ops = ops_crm.copy_to(tmp_path / "data")
    csv_text, _ = customers_export(ops.warehouse_path)
    rows = csv_text.splitlines()
    new_customer = rows[-1].split(",")
    new_customer[8] = "999999"  # an owner who is not a user: gate 1's owner_user_id rule stops the run
    drop(ops.landing_dir, "customers.csv", "\n".join([*rows[:-1], ",".join(new_customer)]) + "\n")
    environment = {"CRM_ALERT_WEBHOOK_URL": webhook.url}
    definitions = ops.definitions(**environment)
    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_sensor(definitions, instance, "crm_file_drops")
        failed = run_extract(definitions, instance, "customers", tags=request.tags)
        assert not failed.success
        alert_run_failure(definitions, instance, failed.dagster_run, failed.get_run_failure_event())

    (alert,) = [json.loads(line) for line in (ops.data_dir / "alerts.jsonl").read_text().splitlines()]
    assert alert["run_id"] == failed.run_id and alert["job"] == "crm_elt"
    assert "owner_user_id" in json.dumps(alert["failed_steps"])
    assert webhook.received == [alert]
    reason = (ops.landing_dir / "rejected" / "customers.csv.reason.txt").read_text()
    assert f"run {failed.run_id} failed" in reason and "owner_user_id" in reason
    assert alert["rejected_files"] == {"customers.csv": str(ops.landing_dir / "rejected" / "customers.csv")}


def test_an_unreachable_webhook_never_breaks_the_alert_log(tmp_path):
    from orchestration.resources import AlertResource

    alerts = AlertResource(
        log_path=str(tmp_path / "alerts.jsonl"), webhook_url="http://127.0.0.1:9/down", webhook_timeout_seconds=2
    )
    problems = alerts.send({"event": "run_failure", "run_id": "r1"})
    assert len(problems) == 1 and "could not POST the alert" in problems[0]
    assert json.loads((tmp_path / "alerts.jsonl").read_text()) == {"event": "run_failure", "run_id": "r1"}
