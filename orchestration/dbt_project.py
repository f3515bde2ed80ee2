"""The dbt project as dagster-dbt sees it, and how its manifest gets written.

Kept apart from transform.py because the dbt assets need the manifest at import time, and the
command that writes the manifest must be importable before it exists.

The manifest depends on the settings dbt parses with: the dbt models read var `source_system`, so a manifest
parsed for `contract` has other sources and models than one parsed for `wukong` (and the Dagster assets follow
it). Each system's manifest has its own folder (target/ for the contract, target/<system>/ for the others), so
that switching CRM_SOURCE_SYSTEM back and forth does not parse again, and processes reading different systems
(a test session running in parallel, two code locations) never overwrite each other's manifest. Every
preparation also records the settings it parsed with beside the manifest (MANIFEST_SETTINGS); loading the
definitions prepares again when they differ from the current ones.

The project names the dbt target the runs build with (CRM_WAREHOUSE_TARGET, `dbt build --target`): dagster-dbt's
preparer parses with it, and dbt reuses its partial-parse state only for the same --target, so a manifest parsed
without one made every run parse the whole project again (twice the parse time: docs/benchmarks.md).
"""

import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.source_system import CONTRACT
from orchestration.warehouses import DEFAULT_WAREHOUSE_TARGET


def manifest_folder(source_system: str) -> str:
    """Where dbt writes the manifest parsed for `source_system`, relative to the dbt project."""
    return "target" if source_system in ("", CONTRACT) else f"target/{source_system}"


# The raw variables, not Settings: an invalid CRM_SOURCE_SYSTEM or CRM_WAREHOUSE_TARGET is reported by the settings
# check with its fix (without a traceback), which must not be pre-empted by an error here at import time. Their
# defaults are the ones Settings uses (CONTRACT, DEFAULT_WAREHOUSE_TARGET).
crm_dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=manifest_folder(os.environ.get("CRM_SOURCE_SYSTEM", CONTRACT).strip()),
    target=os.environ.get("CRM_WAREHOUSE_TARGET") or DEFAULT_WAREHOUSE_TARGET,
)


def dbt_executable() -> str:
    """The dbt installed beside this Python (the dbt-core this environment pins), else dbt from PATH."""
    beside_python = dbt_beside_python()
    return str(beside_python) if beside_python.is_file() else (shutil.which("dbt") or str(beside_python))


def dbt_beside_python() -> Path:
    return Path(sys.executable).with_name("dbt")


# Beside the manifest: the settings it was parsed with (manifest_parsed_with).
MANIFEST_SETTINGS = "manifest_settings.json"


def prepare_dbt_manifest() -> Path:
    """dbt parse with the current settings: writes target/manifest.json, which the dbt assets are built from."""
    with _dbt_first_on_path(), _parse_settings() as parsed_with:
        crm_dbt_project.preparer.prepare(crm_dbt_project)
        _record(parsed_with)
    return crm_dbt_project.manifest_path


def prepare_dbt_manifest_if_dev() -> None:
    """prepare_dbt_manifest, only under `dagster dev` (dagster-dbt's rule)."""
    if crm_dbt_project.preparer.using_dagster_dev():
        prepare_dbt_manifest()


def prepare_dbt_manifest_if_stale() -> bool:
    """Prepare the manifest again when it was parsed for other settings (CRM_SOURCE_SYSTEM changed since); whether
    it did. A missing manifest is left to dagster-dbt's own error (`crm-warehouse prepare` writes it): outside
    `dagster dev` a code location does not parse the project on its own, except to follow a change of system."""
    if not crm_dbt_project.manifest_path.is_file() or manifest_parsed_with() == manifest_settings():
        return False
    prepare_dbt_manifest()
    return True


def manifest_settings(settings: Settings | None = None) -> dict[str, str]:
    """The settings that change what `dbt parse` writes, as recorded beside the manifest."""
    settings = settings or Settings.from_environment()
    return {"source_system": settings.source_system}


def manifest_parsed_with() -> dict[str, str]:
    """The settings the current manifest was parsed with; a manifest without the record (parsed by hand, or by an
    earlier release) was parsed for the contract."""
    record = crm_dbt_project.manifest_path.with_name(MANIFEST_SETTINGS)
    try:
        return json.loads(record.read_text())
    except (OSError, ValueError):
        return {"source_system": "contract"}


@contextmanager
def _parse_settings() -> Iterator[dict[str, str]]:
    """dbt parses with the variables Settings exports (CRM_SOURCE_SYSTEM among them), whether or not the caller
    exported them; the environment is restored afterwards."""
    settings = Settings.from_environment()
    saved = dict(os.environ)
    os.environ.update(settings.dbt_environment())
    try:
        yield manifest_settings(settings)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _record(parsed_with: dict[str, str]) -> None:
    crm_dbt_project.manifest_path.with_name(MANIFEST_SETTINGS).write_text(json.dumps(parsed_with) + "\n")


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
