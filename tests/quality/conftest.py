"""A small simulated CRM taken through one clean crm_elt run, copied for every test that dirties it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import simulator
from crm_contract import SOURCE_TABLES
from tests.support.pipeline import AS_OF, Pipeline, failure_messages  # noqa: F401  (the suites import them from here)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_fingerprint(pipeline: Pipeline) -> dict[str, object]:
    """Every raw table's rows (as an order-independent hash) and every watermark."""
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as con:
        tables = {
            table.name: con.execute(f"select count(*), sum(hash(t)) from raw.{table.name} as t").fetchone()
            for table in SOURCE_TABLES
        }
        tables["_extract_state"] = con.execute("select * from raw._extract_state order by table_name").fetchall()
    return tables


@pytest.fixture(scope="session")
def clean_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    from orchestration.dbt_project import prepare_dbt_manifest

    pipeline = Pipeline(tmp_path_factory.mktemp("quality_baseline"))
    simulator.generate(pipeline.source_url, opportunities=400, seed=11, end_date=AS_OF, quiet=True)
    prepare_dbt_manifest()
    result = pipeline.run()
    assert result.success, failure_messages(result)
    yield pipeline


@pytest.fixture()
def pipeline(clean_pipeline: Pipeline, tmp_path: Path) -> Pipeline:
    """A copy of the clean pipeline's files, free to dirty."""
    return clean_pipeline.copy_to(tmp_path / "data")

