"""A small simulated CRM taken through one clean crm_elt run, built once per test session and shared.

Tests that dirty it work on a copy (Pipeline.copy_to); tests that only read it (tests/quality, tests/bi)
use it as it is. The fixture is registered in tests/conftest.py.

Each run builds its Definitions from the pipeline's own settings (build_definitions), not orchestration.definitions.defs,
whose resources are bound to whichever environment first imported it in this pytest process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import simulator
from crm_contract import SOURCE_TABLES

AS_OF = date(2026, 6, 30)


@dataclass(frozen=True)
class Pipeline:
    """One data folder: the CRM source, the warehouse, the published file, the Data Docs."""

    data_dir: Path
    as_of: date = AS_OF

    @property
    def source_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'crm.sqlite'}"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        return self.data_dir / "published" / "crm.duckdb"

    @property
    def docs_dir(self) -> Path:
        return self.data_dir / "quality_docs"

    def environment(self) -> dict[str, str]:
        return {
            "CRM_DATA_DIR": str(self.data_dir),
            "CRM_SOURCE_URL": self.source_url,
            "CRM_WAREHOUSE_PATH": str(self.warehouse_path),
            "CRM_PUBLISHED_PATH": str(self.published_path),
            "CRM_AS_OF_DATE": self.as_of.isoformat(),
        }

    def on(self, as_of: date) -> Pipeline:
        """The same files, run as of another day (a daily run after the CRM's clock moved)."""
        return replace(self, as_of=as_of)

    def run(
        self,
        *,
        tags: dict[str, str] | None = None,
        asset_selection: list[dg.AssetKey] | dg.AssetSelection | None = None,
        environment: dict[str, str] | None = None,
        asset_checks: set[dg.AssetCheckKey] | None = None,
    ) -> dg.ExecuteInProcessResult:
        """crm_elt on this folder's files, in-process, with its own throwaway run history.

        asset_selection: the assets to materialize (their checks run with them); everything when None.
        asset_checks: only these checks run (dbt runs the tests of no other check); all of them when None.
        """
        from orchestration.definitions import build_definitions
        from orchestration.settings import Settings

        with pytest.MonkeyPatch.context() as env:
            for name, value in {**self.environment(), **(environment or {})}.items():
                env.setenv(name, value)  # dbt runs as a subprocess and reads the warehouse path from here
            definitions = build_definitions(Settings.from_environment())
            job = definitions.resolve_job_def("crm_elt")
            if isinstance(asset_selection, dg.AssetSelection):
                asset_selection = sorted(asset_selection.resolve(definitions.resolve_asset_graph()))
            if asset_checks is not None:
                every_asset = definitions.resolve_asset_graph().get_all_asset_keys()
                job = job.get_subset(
                    asset_selection=set(asset_selection or every_asset), asset_check_selection=asset_checks
                )
                asset_selection = None
            with dg.DagsterInstance.ephemeral() as instance:
                return job.execute_in_process(
                    instance=instance, tags=tags, asset_selection=asset_selection, raise_on_error=False
                )

    def command(
        self, *args: str, dagster_home: Path, environment: dict[str, str] | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """`crm-warehouse <args>` on this folder's files as an operator runs it (its own process, its run history
        in `dagster_home`): the command line and its environment."""
        env = {**os.environ, **self.environment(), "DAGSTER_HOME": str(dagster_home), **(environment or {})}
        return [str(Path(sys.executable).with_name("crm-warehouse")), *args], env

    def run_command(
        self, *args: str, dagster_home: Path, environment: dict[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        command, env = self.command(*args, dagster_home=dagster_home, environment=environment)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)

    def copy_to(self, data_dir: Path) -> Pipeline:
        # symlinks=True: the published folder's links are relative, and stay links in the copy
        shutil.copytree(self.data_dir, data_dir, symlinks=True, ignore=shutil.ignore_patterns("quality_docs"))
        return replace(self, data_dir=data_dir)


def table_fingerprints(
    path: Path, schema: str, names: list[str] | None = None, without_suffix: str | None = None
) -> dict[str, tuple]:
    """Row count and an order-independent hash of every table in the schema, without the `loaded_at`
    bookkeeping column (a re-read row is stamped with the time of the run that re-read it), nor the columns whose
    names end in without_suffix when given (`_source_id`: the ids a source system gave, which differ by shape)."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = names or [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [schema]
            ).fetchall()
        ]
        fingerprints = {}
        for table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                    " order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if r[0] != "loaded_at" and not (without_suffix and r[0].endswith(without_suffix))
            ]
            hashed = ", ".join(f'"{c}"' for c in columns)
            fingerprints[table] = con.execute(f"select count(*), sum(hash({hashed})) from {schema}.{table}").fetchone()
        return fingerprints


def shipped_gates():
    """expectations/gates.yml as a run with the default settings reads it (its freshness from CRM_FRESHNESS_HOURS)."""
    from orchestration.quality.gate_config import read_gate_config
    from orchestration.settings import Settings

    settings = Settings.from_environment({})
    return read_gate_config(settings.quality_gates_path, freshness_hours=settings.freshness_hours)


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


def failure_messages(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Each failed step's error with its causes, as the Dagster UI shows them."""
    messages = {}
    for event in result.all_events:
        if event.is_step_failure:
            error, parts = event.event_specific_data.error, []
            while error is not None:
                parts.append(error.message)
                error = error.cause
            messages[event.step_key] = "\n".join(parts)
    return messages


@pytest.fixture(scope="session")
def clean_pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pipeline, dg.ExecuteInProcessResult]:
    """The one simulated CRM of the test session, taken through crm_elt once, and that run's result."""
    from orchestration.dbt_project import prepare_dbt_manifest

    pipeline = Pipeline(tmp_path_factory.mktemp("clean_pipeline"))
    simulator.generate(pipeline.source_url, opportunities=400, seed=11, end_date=AS_OF, quiet=True)
    prepare_dbt_manifest()
    result = pipeline.run()
    assert result.success, failure_messages(result)
    return pipeline, result


@pytest.fixture(scope="session")
def clean_pipeline(clean_pipeline_run: tuple[Pipeline, dg.ExecuteInProcessResult]) -> Pipeline:
    return clean_pipeline_run[0]


def materialization_metadata(result: dg.ExecuteInProcessResult, *key: str) -> dict[str, object]:
    """The metadata of the run's one materialization of the asset key."""
    (event,) = [
        e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key == dg.AssetKey(list(key))
    ]
    return {name: value.value for name, value in event.metadata.items()}


def observation_metadata(result: dg.ExecuteInProcessResult, *key: str) -> dict[str, object]:
    """The metadata of the run's one observation of the asset key."""
    (observation,) = [
        e.event_specific_data.asset_observation
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
        and e.event_specific_data.asset_observation.asset_key == dg.AssetKey(list(key))
    ]
    return {name: value.value for name, value in observation.metadata.items()}
