"""Apache Superset, started from scratch by bi/superset/run, reading the published warehouse (issue 8, part 2).

The slowest tier of the suite: the first run installs Superset's own environment (bi/superset/.venv) and
creates its metadata. Each SQL Lab query goes through Superset's REST API to the published DuckDB file,
and its answer is compared with the same query run on the file directly. An optional tier: where Superset
cannot be installed (no package index) its tests skip, saying why; the screenshot skips without Chromium.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest
import requests

from tests.support.chromium import chromium_binary
from tests.support.pipeline import Pipeline
from tests.support.servers import free_port

SUPERSET_DIR = Path(__file__).resolve().parents[2] / "bi" / "superset"
SUPERSET_PYTHON = SUPERSET_DIR / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class RunningSuperset:
    url: str
    environment: dict[str, str]
    provisioned: dict
    session: requests.Session
    password_on_command_lines: list[str]  # what any local account could read while Superset was set up

    def execute(self, sql: str) -> requests.Response:
        """One query through SQL Lab, as an analyst runs it, on the provisioned read-only database."""
        return self.session.post(
            f"{self.url}/api/v1/sqllab/execute/",
            timeout=120,
            json={
                "database_id": self.provisioned["database_id"],
                "sql": sql,
                "runAsync": False,
                "schema": "marts",
                "client_id": secrets.token_hex(5),
                "queryLimit": 100000,
            },
        )

    def sql_lab(self, sql: str) -> list[dict]:
        """The rows SQL Lab answers."""
        response = self.execute(sql)
        assert response.status_code == 200, response.text[:2000]
        answer = response.json()
        assert answer["status"] == "success", answer
        return answer["data"]

    def sql_lab_error(self, sql: str) -> str:
        """The error SQL Lab answers a query it refuses with."""
        response = self.execute(sql)
        assert response.status_code >= 400, response.text[:2000]
        return response.text


@pytest.fixture(scope="session")  # session: set up before the session's pipeline, so a skip costs no build
def superset_python() -> Path:
    """The Python of Superset's own environment, built by bi/superset/run --install; the tests skip where it cannot
    be installed (an optional tier, like Chromium's)."""
    installed = subprocess.run([str(SUPERSET_DIR / "run"), "--install"], capture_output=True, text=True, timeout=1800)
    if installed.returncode != 0:
        error = [line for line in installed.stderr.splitlines() if line.startswith("ERROR")][-1:]
        pytest.skip(
            f"Superset could not be installed into {SUPERSET_DIR / '.venv'} from the package index "
            f"({' '.join(error) or installed.stderr.strip()[-300:]}): bi/superset/run --install once it is reachable"
        )
    return SUPERSET_PYTHON


@contextmanager
def command_lines_showing(secret: str) -> Iterator[list[str]]:
    """The command lines, readable by any local account (ps, /proc/<pid>/cmdline), that show `secret` while the
    block runs: every process is looked at every 20 ms."""
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:  # the process ended meanwhile
                    continue
                if secret in command:
                    seen.append(command)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        done.set()
        watcher.join()


def logged_in(url: str, password: str) -> requests.Session:
    session = requests.Session()
    token = session.post(
        f"{url}/api/v1/security/login",
        timeout=60,
        json={"username": "admin", "password": password, "provider": "db", "refresh": True},
    ).json()["access_token"]
    session.headers.update({"Authorization": f"Bearer {token}", "Referer": url})
    session.headers["X-CSRFToken"] = session.get(f"{url}/api/v1/security/csrf_token/", timeout=60).json()["result"]
    return session


@pytest.fixture(scope="module")
def superset(
    superset_python: Path, clean_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSuperset]:
    home = tmp_path_factory.mktemp("superset")
    port = free_port()
    environment = {
        **os.environ,
        "CRM_SUPERSET_HOME": str(home),
        "CRM_SUPERSET_PORT": str(port),
        "CRM_PUBLISHED_PATH": str(clean_pipeline.published_path),
        "CRM_SUPERSET_ADMIN_PASSWORD": secrets.token_urlsafe(16),
    }
    run = SUPERSET_DIR / "run"
    with command_lines_showing(environment["CRM_SUPERSET_ADMIN_PASSWORD"]) as password_on_command_lines:
        started = subprocess.run(
            [str(run), "--background"], env=environment, capture_output=True, text=True, timeout=1800
        )
    try:
        assert started.returncode == 0, f"{started.stdout}\n{started.stderr}\n" + (
            (home / "server.log").read_text()[-3000:] if (home / "server.log").exists() else ""
        )
        url = f"http://127.0.0.1:{port}"
        yield RunningSuperset(
            url,
            environment,
            json.loads((home / "provisioned.json").read_text()),
            logged_in(url, environment["CRM_SUPERSET_ADMIN_PASSWORD"]),
            password_on_command_lines,
        )
    finally:
        subprocess.run([str(run), "--stop"], env=environment, capture_output=True, timeout=60)


def published(clean_pipeline: Pipeline, sql: str) -> list[tuple]:
    with duckdb.connect(str(clean_pipeline.published_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_superset_binds_to_loopback_and_registers_the_warehouse_read_only(superset):
    assert urlparse(superset.url).hostname == "127.0.0.1"
    database = superset.session.get(
        f"{superset.url}/api/v1/database/{superset.provisioned['database_id']}", timeout=60
    ).json()["result"]
    assert database["allow_dml"] is False
    superset.sql_lab_error("delete from marts.dim_users")


def test_the_admin_password_is_on_no_command_line_while_superset_is_set_up(superset):
    assert superset.password_on_command_lines == []


def test_supersets_metadata_and_logs_are_readable_by_their_owner_only(superset):
    home = Path(superset.environment["CRM_SUPERSET_HOME"])
    # gunicorn makes its pid file 0644 itself; a pid is no secret
    written = {path.name: oct(path.stat().st_mode & 0o777) for path in home.iterdir() if path.name != "superset.pid"}
    assert "superset.db" in written
    assert written == {name: "0o600" for name in written}


# Run in Superset's environment: the connection Superset opens from the URL provision.py registers, and what it
# answers to a query that reads a file of the machine, and to one on the published tables.
OPEN_AS_SUPERSET_DOES = """
import sys
import sqlalchemy as sa
from provision import warehouse_uri
with sa.create_engine(warehouse_uri(sys.argv[1])).connect() as con:
    print(con.execute(sa.text("select count(*) from marts.dim_users")).scalar())
    try:
        con.execute(sa.text("select content from read_text('/etc/passwd')"))
    except sa.exc.DBAPIError as refused:
        print(str(refused.orig).splitlines()[0])
"""


def test_the_registered_connection_reads_the_published_tables_and_no_other_file(superset_python, clean_pipeline):
    opened = subprocess.run(
        [str(superset_python), "-c", OPEN_AS_SUPERSET_DOES, str(clean_pipeline.published_path)],
        cwd=SUPERSET_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert opened.returncode == 0, opened.stderr[-2000:]
    users, refusal = opened.stdout.splitlines()
    assert int(users) == published(clean_pipeline, "select count(*) from marts.dim_users")[0][0]
    assert "file system operations are disabled" in refusal


def test_sql_lab_can_neither_read_nor_write_the_machines_files(superset, tmp_path):
    for sql in (
        "select content from read_text('/etc/passwd')",
        "select * from read_csv('/etc/passwd')",
        f"copy (select 1 as id) to '{tmp_path / 'written.csv'}'",
    ):
        assert "file system operations are disabled" in superset.sql_lab_error(sql), sql
    assert not (tmp_path / "written.csv").exists()


def test_sql_lab_sees_every_published_model_with_the_warehouse_row_counts(superset, clean_pipeline):
    models = [
        name
        for (name,) in published(
            clean_pipeline, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    ]
    assert len(models) >= 28 and set(superset.provisioned["datasets"]) >= set(models)
    for model in models:
        (expected,) = published(clean_pipeline, f"select count(*) from marts.{model}")[0]
        assert superset.sql_lab(f"select count(*) as row_count from marts.{model}") == [{"row_count": expected}], model


def test_sql_lab_answers_the_dashboard_figures_as_the_warehouse_does(superset, clean_pipeline):
    funnel_sql = "select stage, opportunities_reached from marts.mart_sales_funnel order by stage_order"
    assert [(row["stage"], row["opportunities_reached"]) for row in superset.sql_lab(funnel_sql)] == published(
        clean_pipeline, funnel_sql
    )

    totals_sql = (
        "select sum(contract_amount) as contracts, sum(payment_amount) as payments "
        "from marts.mart_rep_performance_monthly"
    )
    ((contracts, payments),) = published(clean_pipeline, totals_sql)
    (answer,) = superset.sql_lab(totals_sql)
    assert Decimal(str(answer["contracts"])) == contracts and Decimal(str(answer["payments"])) == payments
    assert contracts > 0


def test_the_provisioned_dashboard_renders_every_chart_in_headless_chromium(superset, tmp_path):
    browser = chromium_binary()  # skips, naming the command that installs it, where Chromium is missing
    screenshot = tmp_path / "dashboard.png"
    result = subprocess.run(
        [
            str(SUPERSET_PYTHON),
            str(SUPERSET_DIR / "screenshot.py"),
            "--url",
            superset.url,
            "--out",
            str(screenshot),
            "--browser",
            browser,
        ],
        env=superset.environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rendered = json.loads(result.stdout)

    assert [chart["name"] for chart in rendered["charts"]] == list(superset.provisioned["charts"])
    assert all(chart["drawn"] and not chart["error"] for chart in rendered["charts"]), rendered["charts"]
    # The only errors allowed are fonts Superset's page asks of the internet, which this machine has not.
    local = [error for error in rendered["console_errors"] if urlparse(error["url"]).hostname in (None, "127.0.0.1")]
    assert local == [], local

    spread = subprocess.run(  # Pillow is in Superset's environment, not the pipeline's
        [
            str(SUPERSET_PYTHON),
            "-c",
            "import sys; from PIL import Image, ImageStat; "
            "print(max(ImageStat.Stat(Image.open(sys.argv[1]).convert('L')).stddev))",
            str(screenshot),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(spread.stdout) > 20, "the dashboard screenshot is nearly one colour: a blank page"
