"""The whole crm_elt job, in-process, on a small simulated CRM: extract → dbt → publish."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import simulator
from crm_contract import SOURCE_TABLES
from tests.support.pipeline import Pipeline, materialization_metadata

README = Path(__file__).resolve().parents[2] / "README.md"


def current_definitions() -> dg.Definitions:
    """Definitions bound to this folder's environment. Not orchestration.definitions.defs: that one is bound to
    whichever environment first imported the module in this pytest process (tests/bi may run first)."""
    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings

    settings = Settings.from_environment()
    settings.export_to_environment()
    return build_definitions(settings)


def run_crm_elt(**tags: str) -> dg.ExecuteInProcessResult:
    defs = current_definitions()
    with dg.DagsterInstance.get() as instance:
        return defs.resolve_job_def("crm_elt").execute_in_process(instance=instance, tags=tags)


def published_tables(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {name: con.execute(f"select count(*) from marts.{name}").fetchone()[0] for name in names}


@pytest.fixture(scope="module")
def pipeline(clean_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A copy of the session's clean pipeline (a test here advances its CRM), as this process's environment: the
    job runs against the instance in its DAGSTER_HOME, as `crm-warehouse run` does."""
    from orchestration.cli import ensure_dagster_home
    from orchestration.settings import Settings

    pipeline = clean_pipeline.copy_to(tmp_path_factory.mktemp("crm_elt_job") / "data")
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**pipeline.environment(), "DAGSTER_HOME": str(pipeline.data_dir / "dagster_home")}.items():
            env.setenv(name, value)
        ensure_dagster_home(Settings.from_environment())
        yield pipeline


@pytest.fixture(scope="module")
def first_run(clean_pipeline_run: tuple[Pipeline, dg.ExecuteInProcessResult]) -> dg.ExecuteInProcessResult:
    """The clean pipeline's first crm_elt run, which built what the copy holds."""
    return clean_pipeline_run[1]


def test_definitions_hold_the_job_the_schedule_and_an_asset_per_source_table(pipeline):
    defs = current_definitions()
    assert defs.resolve_job_def("crm_elt").name == "crm_elt"
    assert defs.resolve_schedule_def("crm_elt_daily").cron_schedule == "0 6 * * *"
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"raw/{t.name}" for t in SOURCE_TABLES} <= keys
    assert {f"landing/{t.name}" for t in SOURCE_TABLES} <= keys
    assert {
        "marts/fct_opportunities",
        "marts/mart_sales_funnel",
        "published/crm_warehouse",
        "published/dashboard",
    } <= keys


def test_a_run_publishes_every_published_model_with_the_warehouse_rows(pipeline, first_run):
    from orchestration.transform import published_model_keys

    published = published_tables(pipeline.published_path)
    assert set(published) == {key.path[-1] for key in published_model_keys()}
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as warehouse:
        for name, rows in published.items():
            assert warehouse.execute(f"select count(*) from marts.{name}").fetchone()[0] == rows, name
        source_opportunities = warehouse.execute(
            "select count(*) from raw.opportunities where not is_deleted"
        ).fetchone()[0]
    assert published["fct_opportunities"] == source_opportunities > 0
    assert published["mart_sales_funnel"] == 6  # lead … won, lost is not a funnel stage


def test_raw_asset_metadata_reports_rows_and_watermark(pipeline, first_run):
    landed = materialization_metadata(first_run, "landing", "opportunities")
    merged = materialization_metadata(first_run, "raw", "opportunities")
    assert landed["rows_read"] == merged["rows_inserted"] > 0
    assert merged["watermark_after"].startswith("2026-06")


def test_a_reader_of_the_published_file_keeps_the_old_data_until_it_reopens(pipeline, first_run):
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(pipeline.published_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    before = int(reader.stdout.readline())
    simulator.advance(pipeline.source_url, days=5)
    second = run_crm_elt()
    assert second.success, "a run must not fail while a reader holds the published file open"
    reader.stdin.write("go\n")
    reader.stdin.flush()
    still_open = int(reader.stdout.readline())
    assert reader.wait(timeout=30) == 0
    assert still_open == before
    assert published_tables(pipeline.published_path)["fct_activities"] > before
    # and the second run extracted a delta, not the whole history
    delta = materialization_metadata(second, "landing", "activities")
    assert delta["mode"] == "incremental"
    assert 0 < delta["rows_read"] < before


READER_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: con.execute('select count(*) from marts.fct_activities').fetchone()[0]
print(count(), flush=True)
sys.stdin.readline()
print(count(), flush=True)
"""


def test_the_readme_sql_examples_run_on_the_published_file(pipeline, first_run):
    queries = re.findall(r"```sql\n(.*?)```", README.read_text(), flags=re.S)
    assert len(queries) >= 4
    with duckdb.connect(str(pipeline.published_path), read_only=True) as con:
        for query in queries:
            rows = con.execute(query).fetchall()
            assert rows, f"README query returned nothing:\n{query}"
