"""One small simulated CRM and one configured environment for the end-to-end tests of this folder.

The Definitions read the environment when first imported, so the environment is set before that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

import simulator

SIMULATED_END = date(2026, 6, 30)


@dataclass(frozen=True)
class Pipeline:
    data_dir: Path
    source_url: str
    warehouse_path: Path
    published_path: Path


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    data_dir = tmp_path_factory.mktemp("crm")
    source_url = f"sqlite:///{data_dir / 'crm.sqlite'}"
    env = {
        "CRM_DATA_DIR": str(data_dir),
        "CRM_SOURCE_URL": source_url,
        "CRM_WAREHOUSE_PATH": str(data_dir / "warehouse.duckdb"),
        "CRM_PUBLISHED_PATH": str(data_dir / "published" / "crm.duckdb"),
        "CRM_AS_OF_DATE": SIMULATED_END.isoformat(),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    simulator.generate(source_url, opportunities=400, seed=11, end_date=SIMULATED_END, quiet=True)

    from orchestration.cli import ensure_dagster_home
    from orchestration.dbt_project import prepare_dbt_manifest
    from orchestration.settings import Settings

    ensure_dagster_home(Settings.from_environment())
    prepare_dbt_manifest()
    yield Pipeline(data_dir, source_url, Path(env["CRM_WAREHOUSE_PATH"]), Path(env["CRM_PUBLISHED_PATH"]))
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
