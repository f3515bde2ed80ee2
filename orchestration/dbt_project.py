"""The dbt project as dagster-dbt sees it, and how its manifest gets written.

Kept apart from transform.py because the dbt assets need the manifest at import time, and the
command that writes the manifest must be importable before it exists.
"""

from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

crm_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_dbt_manifest() -> Path:
    """dbt parse: writes target/manifest.json, which the dbt assets are built from."""
    crm_dbt_project.preparer.prepare(crm_dbt_project)
    return crm_dbt_project.manifest_path
