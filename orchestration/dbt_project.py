"""The dbt project as dagster-dbt sees it, and how its manifest gets written.

Kept apart from transform.py because the dbt assets need the manifest at import time, and the
command that writes the manifest must be importable before it exists.
"""

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from orchestration.settings import DBT_PROJECT_DIR, Settings

crm_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The dbt installed beside this Python (the dbt-core this environment pins), else dbt from PATH."""
    beside_python = dbt_beside_python()
    return str(beside_python) if beside_python.is_file() else (shutil.which("dbt") or str(beside_python))


def dbt_beside_python() -> Path:
    return Path(sys.executable).with_name("dbt")


def prepare_dbt_manifest() -> Path:
    """dbt parse: writes target/manifest.json, which the dbt assets are built from."""
    with _dbt_first_on_path():
        _preparer().prepare(crm_dbt_project)
    return crm_dbt_project.manifest_path


def prepare_dbt_manifest_if_dev() -> None:
    """prepare_dbt_manifest, only under `dagster dev` (dagster-dbt's rule)."""
    with _dbt_first_on_path():
        _preparer().prepare_if_dev(crm_dbt_project)


@contextmanager
def _dbt_first_on_path() -> Iterator[None]:
    """dagster-dbt's preparer runs the `dbt` it finds on PATH, and `.venv/bin/crm-warehouse` is run without the
    venv's bin folder on PATH: for as long as the preparer runs, the folder of dbt_executable() comes first."""
    saved = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join(filter(None, [str(Path(dbt_executable()).parent), saved]))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved


def _preparer() -> DagsterDbtProjectPreparer:
    """dagster-dbt's preparer, parsing with the target the runs name (`dbt build --target`,
    orchestration/definitions.py): dbt reuses its partial-parse state only for the same --target, so a manifest
    parsed without one made every run parse the whole project again (twice the parse time: docs/benchmarks.md)."""
    target = Settings.from_environment().warehouse_target
    return DagsterDbtProjectPreparer(prepare_project_cli_args=["parse", "--quiet", "--target", target])
