"""A daily run killed (SIGKILL) at each point of the job, then run again as an operator would: the next run
recovers by itself, and what it publishes equals what a run that never crashed publishes.

Every case starts from the same warehouse (the clean pipeline's first day) and the same CRM one simulated day
later, so one uncrashed run of that day is the reference for all of them. The crash comes from the test-only
switch CRM_TEST_CRASH_AT (orchestration/crash_points.py); the runs are `crm-warehouse run` processes.

A case costs two runs (a minute and a half on two cores), so CI crashes the job at two points: inside the
merge's transaction, and mid-dbt (the fault that once stopped every later run: the dead run holds the pool, its
orphaned dbt build still writes). CRM_TEST_EVERY_CRASH_POINT=1 runs all nine (mid-extract, after the merge,
either gate, before and after the published file's rename, before the dashboard's swap).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import simulator
from crm_contract import SOURCE_TABLES
from orchestration.crash_points import CRASH_AT_VARIABLE, CRASH_POINTS
from orchestration.names import WAREHOUSE_POOL
from orchestration.raw_schema import EXTRACT_STATE_TABLE
from orchestration.writer_lock import WriterLock, writer_lock_path
from tests.support.pipeline import Pipeline, file_digest, table_fingerprints
from tests.support.raw_comparison import assert_raw_matches_source

CI_CRASH_POINTS = ("raw_merge", "dbt")
EVERY_CRASH_POINT = os.environ.get("CRM_TEST_EVERY_CRASH_POINT") == "1"


@pytest.fixture(scope="module")
def next_day(clean_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The clean pipeline's warehouse and published files, its CRM advanced one day: where every case starts."""
    folder = clean_pipeline.copy_to(tmp_path_factory.mktemp("crash_points") / "data")
    simulator.advance(folder.source_url, days=1, seed=7)
    return folder.on(folder.as_of + timedelta(days=1))


@pytest.fixture(scope="module")
def uncrashed(next_day: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """The published marts of that day's run when nothing crashes."""
    work = tmp_path_factory.mktemp("uncrashed")
    pipeline = next_day.copy_to(work / "data")
    finished = pipeline.run_command("run", dagster_home=work / "dagster_home")
    assert finished.returncode == 0, finished.stderr[-3000:]
    return table_fingerprints(pipeline.published_path, "marts")


@pytest.fixture()
def folder(next_day: Pipeline, tmp_path: Path) -> Iterator[Pipeline]:
    yield next_day.copy_to(tmp_path / "data")


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_run_killed_at_each_point_is_recovered_by_the_next_run(
    point: str, folder: Pipeline, tmp_path: Path, next_day: Pipeline, uncrashed: dict[str, tuple]
):
    if point not in CI_CRASH_POINTS and not EVERY_CRASH_POINT:
        pytest.skip(f"crash point {point}: CRM_TEST_EVERY_CRASH_POINT=1 runs every point (a minute and a half each)")
    before = table_fingerprints(folder.published_path, "marts")
    published_before = file_digest(folder.published_path)
    dagster_home = tmp_path / "dagster_home"

    crashed = folder.run_command("run", dagster_home=dagster_home, environment={CRASH_AT_VARIABLE: point})

    assert crashed.returncode == -signal.SIGKILL, f"did not crash at {point}: {crashed.stderr[-2000:]}"
    wait_for_its_orphans(folder.warehouse_path)
    if file_digest(folder.published_path) != published_before:  # the new file, whole, or the old one untouched
        assert table_fingerprints(folder.published_path, "marts") == uncrashed
    assert_parquet_matches_the_published_file(folder.published_path)  # one version: never a mix of two runs
    assert_no_watermark_ahead_of_its_data(folder.warehouse_path)

    recovered = folder.run_command("run", dagster_home=dagster_home)

    assert recovered.returncode == 0, recovered.stdout[-3000:] + recovered.stderr[-3000:]
    (said,) = [line for line in (recovered.stdout + recovered.stderr).splitlines() if "died without finishing" in line]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        crashed_run, next_run = reversed(instance.get_runs())
        assert said.split(" - ")[-1].startswith(f"run {crashed_run.run_id} (pid ")
        assert (crashed_run.status, next_run.status) == (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS)
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots == []
    with duckdb.connect(str(folder.warehouse_path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        assert_raw_matches_source(con, folder.source_url)  # no row lost or doubled
    assert table_fingerprints(folder.published_path, "marts") == uncrashed
    assert table_fingerprints(folder.published_path, "marts") != before  # the day's changes were published
    assert_parquet_matches_the_published_file(folder.published_path)
    (version,) = folder.published_path.parent.glob(".published.*")  # the killed publish's version is gone
    assert folder.published_path.resolve().parent == version


def wait_for_its_orphans(warehouse: Path) -> None:
    """A run killed mid-dbt leaves its dbt build running (the next run would end it): let it finish, so that the
    warehouse can be inspected as the crash left it."""
    holder = WriterLock(writer_lock_path(warehouse)).holder()
    deadline = time.monotonic() + 300
    while holder and any(child.is_gone() is False for child in holder.children):
        assert time.monotonic() < deadline, "the killed run's dbt build did not finish in 5 minutes"
        time.sleep(0.5)


def assert_no_watermark_ahead_of_its_data(warehouse: Path) -> None:
    """A table's watermark never passes the newest row its raw table holds."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in SOURCE_TABLES:
            (watermark,) = con.execute(
                f"select watermark from {EXTRACT_STATE_TABLE} where table_name = ?", [table.name]
            ).fetchone()
            (newest,) = con.execute(f"select max(updated_at) from raw.{table.name}").fetchone()
            assert watermark is None or newest is None or watermark <= newest, table.name


def assert_parquet_matches_the_published_file(published_path: Path) -> None:
    parquet_dir = published_path.parent / "parquet"
    with duckdb.connect(str(published_path), read_only=True) as con:
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall():
            in_file = con.execute(f"select count(*) from marts.{name}").fetchone()
            in_parquet = con.execute(f"select count(*) from '{parquet_dir / name}.parquet'").fetchone()
            assert in_file == in_parquet, name
