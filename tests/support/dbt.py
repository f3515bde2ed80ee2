"""Run dbt as a subprocess against a given warehouse file.

A subprocess, not dbtRunner: in-process dbt keeps the DuckDB file open for the rest of the pytest process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def run_dbt(
    args: list[str],
    *,
    warehouse_path: Path,
    as_of_date: str,
    extra_env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    dbt = shutil.which("dbt") or str(Path(os.sys.executable).with_name("dbt"))
    env = {
        **os.environ,
        "CRM_WAREHOUSE_PATH": str(warehouse_path),
        "CRM_AS_OF_DATE": as_of_date,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(extra_env or {}),
    }
    result = subprocess.run(
        [
            dbt,
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(warehouse_path.parent / "dbt_target"),
            "--log-path",
            str(warehouse_path.parent / "dbt_logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result
