"""The faults an operator meets (issue 21 §4), each with the message it gives.

`crm-warehouse` is run as the README writes it, `.venv/bin/crm-warehouse`, in a subprocess whose PATH does not hold
the venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


VENV_BIN = Path(sys.executable).parent


def crm_warehouse(command: str, data_dir: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """`.venv/bin/crm-warehouse <command>` with the venv's folder off PATH and no CRM_* variable but these."""
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith(("CRM_", "DAGSTER_")) and name != "PATH"}
    path = os.pathsep.join(folder for folder in os.environ["PATH"].split(os.pathsep) if Path(folder) != VENV_BIN)
    env = {**inherited, "PATH": path, "CRM_DATA_DIR": str(data_dir), **environment}
    return subprocess.run([str(VENV_BIN / "crm-warehouse"), command], env=env, capture_output=True, text=True,
                          timeout=300)


def test_crm_warehouse_prepare_runs_the_dbt_beside_its_python_without_the_venv_on_path(tmp_path):
    result = crm_warehouse("prepare", tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "manifest: " in result.stdout and "not found on PATH" not in result.stderr
