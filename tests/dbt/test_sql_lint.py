"""The dbt models pass the SQL lint (sqlfluff, configured in dbt_project/.sqlfluff), for every source system.

sqlfluff's dbt templater compiles each model as dbt would, so it lints only the models a system enables: the
contract's run covers the shared models, and each CRM's run its own staging folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"

FOLDERS_BY_SYSTEM = {
    "contract": "models",
    "wukong": "models/staging/wukong",
    "salesforce": "models/staging/salesforce",
}


@pytest.mark.parametrize("system", FOLDERS_BY_SYSTEM)
def test_the_models_pass_the_sql_lint(system: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CRM_SOURCE_SYSTEM": system,
        "CRM_WAREHOUSE_TARGET": "duckdb",
        # dbt's parse and an empty warehouse go to this test's folder, not the project's target/ or data/
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    lint = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", FOLDERS_BY_SYSTEM[system], "--format", "json", "-p", "1"],
        cwd=DBT_PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert lint.stdout.strip(), f"sqlfluff printed no report:\n{lint.stderr[-3000:]}"
    files = json.loads(lint.stdout)
    findings = [
        f"{file['filepath']}:{violation['start_line_no']} {violation['code']} {violation['description']}"
        for file in files
        for violation in file["violations"]
    ]
    assert not findings, "sqlfluff (dbt_project/.sqlfluff) found:\n" + "\n".join(findings)
    linted = {Path(file["filepath"]).name for file in files}
    assert len(linted) >= 10, f"sqlfluff linted only {sorted(linted)}: did the dbt templater skip the models?"
