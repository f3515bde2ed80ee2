"""The dbt resource of the job: the dbt it runs, and where each build's artifacts go and for how long; and the dbt
resources the job picks out by dbt selection (the published models, the snapshots)."""

from __future__ import annotations

import os
import sys
import time
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import dagster_dbt.core.resource
import pytest
import yaml

from orchestration.dbt_project import crm_dbt_project
from orchestration.definitions import build_definitions
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.transform import dbt_asset_keys, published_model_keys


def test_the_job_runs_the_dbt_beside_its_python_and_knows_its_version_without_asking(monkeypatch):
    """dagster-dbt would start `dbt --version` before every build (2 s); the installed dbt-core answers instead."""
    dbt = build_definitions(Settings.from_environment({})).resources["dbt"]
    assert Path(dbt.dbt_executable) == Path(sys.executable).with_name("dbt")
    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", lambda *args, **kwargs: pytest.fail("asked dbt"))
    assert str(dbt._cli_version) == version("dbt-core")


def test_each_build_writes_its_artifacts_to_a_new_folder_and_older_folders_than_the_setting_go(tmp_path):
    settings = Settings.from_environment({"CRM_DBT_ARTIFACTS_KEEP_DAYS": "3"})
    dbt = build_definitions(settings).resources["dbt"].model_copy(update={"project_dir": str(tmp_path)})
    runs = tmp_path / "target" / "runs"
    four_days_old, two_days_old = runs / "old-run", runs / "recent-run"
    for folder, age_days in ((four_days_old, 4), (two_days_old, 2)):
        (folder / "compiled").mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        then = time.time() - age_days * 86400
        os.utime(folder, (then, then))

    context = SimpleNamespace(run=SimpleNamespace(run_id="1a2b3c4d-0000-0000-0000-000000000000"))
    first, second = dbt.invocation_target_path(context), dbt.invocation_target_path(context)

    assert first.parent == runs and first.name.startswith("1a2b3c4d-") and first != second
    assert sorted(p.name for p in runs.iterdir()) == ["recent-run"]


def test_a_dbt_command_opens_no_dbt_adapter_in_the_jobs_process(monkeypatch, tmp_path):
    """dagster-dbt would load the project and its macros into an adapter here (0.8 s a run), for row counts and
    column metadata the job never fetches."""
    from dbt.adapters import factory

    adapters_registered = []
    monkeypatch.setattr(factory, "register_adapter", lambda *args, **kwargs: adapters_registered.append(args))
    dbt = build_definitions(Settings.from_environment({})).resources["dbt"]

    invocation = dbt.cli(
        ["ls", "--select", "stg_crm__users"], manifest=crm_dbt_project.manifest_path, target_path=tmp_path
    ).wait()

    assert invocation.is_successful() and invocation.adapter is None
    assert adapters_registered == []


def test_the_manifest_is_parsed_with_the_target_the_job_builds_with():
    """dbt reuses its partial-parse state only for the same --target: the manifest is parsed for the target the runs
    build with, or every run parses the whole project again. dagster-dbt's preparer runs `dbt parse` through a
    DbtCliResource made from the project, which takes the project's target."""
    job_dbt = build_definitions(Settings.from_environment({})).resources["dbt"]
    preparers_dbt = dagster_dbt.core.resource.DbtCliResource(project_dir=crm_dbt_project)
    assert crm_dbt_project.target == preparers_dbt.target == job_dbt.target == "duckdb"


def test_the_published_models_are_the_marts_folders_and_the_snapshots_the_snapshot_files():
    """dagster-dbt evaluates the dbt selections (`config.meta.published:true`, `resource_type:snapshot`) on the
    manifest: they must name what publish copies (every model under models/marts/) and the snapshots the run counts
    versions of, as the project's files declare them."""
    marts = {dg.AssetKey(["marts", path.stem]) for path in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    declared = yaml.safe_load((DBT_PROJECT_DIR / "snapshots" / "_snapshots.yml").read_text())["snapshots"]
    snapshots = {dg.AssetKey(["snapshots", snapshot["name"]]) for snapshot in declared}
    assert len(marts) > 30 and len(snapshots) == 3
    assert set(published_model_keys()) == marts
    assert dbt_asset_keys("resource_type:snapshot") == snapshots
