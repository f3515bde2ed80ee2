"""The faults an operator meets (issue 21 §4), each refused before any work with one message that says what to fix.

`crm-warehouse` is run as the README writes it, `.venv/bin/crm-warehouse`, in a subprocess whose PATH does not hold
the venv; the other faults are tried on the job's own Definitions, on a copy of the small operations CRM.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.alerts import error_text
from orchestration.cli import main
from orchestration.definitions import build_definitions
from orchestration.settings import Settings, SettingsError
from orchestration.source_check import check_source
from orchestration.transient_errors import SourceRetries
from tests.orchestration.conftest import OpsFolder, evaluate_sensor, run_extract
from tests.support.file_drops import customers_export, drop
from tests.support.servers import Server, free_port

VENV_BIN = Path(sys.executable).parent


def crm_warehouse(command: str, data_dir: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """`.venv/bin/crm-warehouse <command>` with the venv's folder off PATH and no CRM_* variable but these."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CRM_", "DAGSTER_")) and name != "PATH"
    }
    path = os.pathsep.join(folder for folder in os.environ["PATH"].split(os.pathsep) if Path(folder) != VENV_BIN)
    env = {**inherited, "PATH": path, "CRM_DATA_DIR": str(data_dir), **environment}
    return subprocess.run(
        [str(VENV_BIN / "crm-warehouse"), command], env=env, capture_output=True, text=True, timeout=300
    )


def test_crm_warehouse_needs_neither_the_venv_on_path_nor_an_existing_warehouse_folder(tmp_path):
    warehouse = tmp_path / "not" / "yet" / "warehouse.duckdb"
    result = crm_warehouse("prepare", tmp_path / "data", CRM_WAREHOUSE_PATH=str(warehouse))
    assert result.returncode == 0, result.stderr
    assert "manifest: " in result.stdout and "not found on PATH" not in result.stderr
    assert warehouse.parent.is_dir()


def test_a_source_that_is_down_stops_crm_warehouse_run_at_once_with_one_message(tmp_path):
    url = f"postgresql://crm_reader:s3cret@127.0.0.1:{free_port()}/crm"
    result = crm_warehouse(
        "run", tmp_path / "data", CRM_SOURCE_URL=url, CRM_SOURCE_RETRIES="1", CRM_SOURCE_RETRY_SECONDS="0.1"
    )
    assert result.returncode == 1
    masked = url.replace("s3cret", "***")
    *retries, message = result.stderr.strip().splitlines()
    assert message.startswith(
        f"crm-warehouse: CRM_SOURCE_URL='{masked}': the CRM database was still unavailable after 2 attempt(s)"
    )
    assert "Connection refused" in message and "check that it is up and reachable" in message
    assert retries == [line for line in retries if "retry 1 of 1" in line] and len(retries) == 1
    assert "s3cret" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert "manifest:" not in result.stdout  # nothing started: not even dbt's parse


@pytest.mark.parametrize(
    "variable, value, message",
    [
        (
            "CRM_SOURCE_URL",
            "crm-db.internal:5432/crm?password=s3cret",
            "CRM_SOURCE_URL='crm-db.internal:5432/crm?password=***' is not a database URL: use sqlite:////",
        ),
        (
            "CRM_SOURCE_URL",
            "oracle://crm:s3cret@crm-db/crm",
            "CRM_SOURCE_URL='oracle://crm:***@crm-db/crm': 'oracle' is not a source database this project reads: use ",
        ),
        (
            "CRM_SOURCE_URL",
            "mysql+mysqldb://crm:s3cret@crm-db/crm",
            "CRM_SOURCE_URL='mysql+mysqldb://crm:***@crm-db/crm': driver 'mysqldb' is not installed (No module named "
            "'MySQLdb'); leave the driver out (mysql://…)",
        ),
        (
            "CRM_DUCKDB_MEMORY_LIMIT",
            "lots",
            "CRM_DUCKDB_MEMORY_LIMIT='lots' is not a memory size: use a number and a unit (KB, MB, GB, TB or KiB, MiB, "
            "GiB, TiB), such as 3GB or 512MB",
        ),
        ("CRM_DUCKDB_MEMORY_LIMIT", "80%", "CRM_DUCKDB_MEMORY_LIMIT='80%' is not a memory size"),
        (
            "CRM_DUCKDB_MEMORY_LIMIT",
            "1MB",
            "CRM_DUCKDB_MEMORY_LIMIT='1MB' is too little for DuckDB to work: use at least 64MB",
        ),
        ("CRM_AS_OF_DATE", "2999-01-01", "CRM_AS_OF_DATE='2999-01-01' is after today ("),
        ("CRM_DBT_THREADS", "0", "CRM_DBT_THREADS='0' must be a whole number ≥ 1"),
        ("CRM_ALLOW_FUTURE_AS_OF", "yes", "CRM_ALLOW_FUTURE_AS_OF='yes' must be 1 (yes) or 0 (no, the default)"),
    ],
)
def test_bad_settings_are_refused_by_crm_warehouse_with_the_message_alone(
    monkeypatch, capsys, variable, value, message
):
    monkeypatch.setenv(variable, value)
    assert main(["run"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"crm-warehouse: {message}") and err.count("\n") == 1
    assert out == "" and "s3cret" not in err


def test_a_malformed_gates_file_is_refused_by_crm_warehouse_naming_the_entry(monkeypatch, capsys, tmp_path):
    gates = tmp_path / "gates.yml"
    gates.write_text("thresholds:\n  amount_ceiling: lots\n  volume_drop_share: 0.25\n")
    monkeypatch.setenv("CRM_QUALITY_GATES", str(gates))
    assert main(["run"]) == 2
    assert capsys.readouterr().err == (
        f"crm-warehouse: CRM_QUALITY_GATES={gates}: thresholds.amount_ceiling: 'lots' must be a number ≥ 0\n"
    )


def test_the_cli_prints_a_settings_error_without_a_traceback(tmp_path):
    result = crm_warehouse("run", tmp_path / "data", CRM_DUCKDB_MEMORY_LIMIT="3 gigs")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("crm-warehouse: CRM_DUCKDB_MEMORY_LIMIT='3 gigs' is not a memory size")
    assert result.stderr.count("\n") == 1


def test_a_future_as_of_date_is_accepted_only_when_allowed_explicitly():
    assert (
        Settings.from_environment({"CRM_AS_OF_DATE": "2999-01-01", "CRM_ALLOW_FUTURE_AS_OF": "1"}).as_of_date.year
        == 2999
    )
    with pytest.raises(SettingsError, match="set CRM_ALLOW_FUTURE_AS_OF=1 if you mean it"):
        Settings.from_environment({"CRM_AS_OF_DATE": "2999-01-01", "CRM_ALLOW_FUTURE_AS_OF": "0"})


def test_a_mysql_url_is_read_with_the_installed_pymysql_and_keeps_its_password():
    settings = Settings.from_environment({"CRM_SOURCE_URL": "mysql://crm:s3cret@crm-db:3306/crm"})
    assert settings.source_url == "mysql+pymysql://crm:s3cret@crm-db:3306/crm"
    assert (
        Settings.from_environment({"CRM_SOURCE_URL": "mariadb://crm@crm-db/crm"}).source_url
        == "mariadb+pymysql://crm@crm-db/crm"
    )
    assert (
        Settings.from_environment({"CRM_SOURCE_URL": "postgres://crm@crm-db/crm"}).source_url
        == "postgresql://crm@crm-db/crm"
    )


def test_a_mysql_url_as_the_readme_writes_it_reads_a_mariadb_server(mariadb: Server):
    import simulator
    from crm_contract import source_table

    database = mariadb.create_database()
    simulator.generate(mariadb.url(database), opportunities=20, seed=3, quiet=True)
    readme_form = mariadb.url(database).replace("mysql+pymysql://", "mysql://")
    settings = Settings.from_environment({"CRM_SOURCE_URL": readme_form})
    check_source(settings.source_url, SourceRetries(0), as_of=None)
    reader = build_definitions(settings).resources["crm_source"].reader()
    users = source_table("users")
    assert reader.check_columns(users) == []
    assert reader.read(users, updated_since=None).num_rows > 0


def run_failure_message(result: dg.ExecuteInProcessResult) -> str:
    return error_text(result.get_run_failure_event().event_specific_data.error)


def test_a_missing_sqlite_source_fails_the_run_before_any_step_and_is_never_created(ops_crm: OpsFolder, tmp_path):
    missing = tmp_path / "typo" / "crm.sqlite"
    definitions = ops_crm.copy_to(tmp_path / "data").definitions(CRM_SOURCE_URL=f"sqlite:///{missing}")
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_extract(definitions, instance, "users", "customers")
    assert not result.success and not [event for event in result.all_events if event.is_step_start]
    assert (
        f"SourceCheckError: CRM_SOURCE_URL='sqlite:///{missing}': there is no file {missing}; check the path "
        "(the pipeline reads the CRM database and never creates one)"
    ) in run_failure_message(result)
    assert not missing.exists() and not missing.parent.exists()


def test_an_as_of_date_before_the_first_opportunity_is_refused_before_any_step(ops_crm: OpsFolder, tmp_path):
    definitions = ops_crm.copy_to(tmp_path / "data").definitions(CRM_AS_OF_DATE="2001-01-01")
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_extract(definitions, instance, "users")
    assert not result.success and not [event for event in result.all_events if event.is_step_start]
    assert "CRM_AS_OF_DATE=2001-01-01 is before the CRM's first opportunity (20" in run_failure_message(result)
    assert "Use a later date, or unset CRM_AS_OF_DATE for today" in run_failure_message(result)


def test_a_file_drop_run_loads_its_file_without_the_crm_database(ops_crm: OpsFolder, tmp_path):
    ops = ops_crm.copy_to(tmp_path / "data")
    csv_text, _ = customers_export(ops.warehouse_path)
    drop(ops.landing_dir, "customers.csv", csv_text)
    definitions = ops.definitions(CRM_SOURCE_URL=f"sqlite:///{tmp_path / 'gone.sqlite'}")
    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_sensor(definitions, instance, "crm_file_drops")
        result = run_extract(definitions, instance, "customers", tags=request.tags)
    assert result.success
    assert (ops.landing_dir / "archive" / "customers.csv").is_file()
