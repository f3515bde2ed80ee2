"""A daily run killed (SIGKILL) at each point of the job, then run again as an operator would: the next run
recovers by itself, and what it publishes equals what a run that never crashed publishes.

Every case starts from the same warehouse (the clean pipeline's first day) and the same CRM one simulated day
later, so one uncrashed run of that day is the reference for all of them. The crash comes from the test-only
switch CRM_TEST_CRASH_AT (orchestration/crash_points.py); the runs are `crm-warehouse run` processes.

The same on the Postgres target (a local server the tests start; skipped, saying why, where PostgreSQL 15 is not
installed), from a copy of a database that holds the same first day: killed inside the merge's transaction and
mid-dbt. And a first run killed right after its raw merge, finished by the next run: the history must begin on
the day an uncrashed first run gives it.

A case costs two runs (a minute and a half on two cores), so CI crashes the job at three points: on DuckDB inside
the merge's transaction and mid-dbt (the fault that once stopped every later run: the dead run holds the pool, its
orphaned dbt build still writes), on Postgres mid-dbt. CRM_TEST_EVERY_CRASH_POINT=1 runs every case: all nine
points on DuckDB (mid-extract, after the merge, either gate, before and after the published file's rename, before
the dashboard's swap), the merge on Postgres, and the killed first run (whose rule a dbt unit test also checks in
CI: mart_pipeline_snapshot_daily__killed_first_run_first_day).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

import simulator
from crm_contract import SOURCE_TABLES
from orchestration.crash_points import CRASH_AT_VARIABLE, CRASH_POINTS
from orchestration.names import WAREHOUSE_POOL
from orchestration.raw_schema import EXTRACT_STATE_TABLE
from orchestration.writer_lock import WriterLock, writer_lock_path
from tests.support.pipeline import Pipeline, failure_messages, file_digest, table_fingerprints
from tests.support.raw_comparison import assert_raw_matches_source, postgres_rows, source_rows
from tests.support.servers import Server
from tests.support.warehouses import assert_same_published_rows, create_reader_role, postgres_env, sqlalchemy_rows

CI_CRASH_POINTS = ("raw_merge", "dbt")
POSTGRES_CRASH_POINTS = ("raw_merge", "dbt")
POSTGRES_CI_CRASH_POINTS = ("dbt",)
EVERY_CRASH_POINT = os.environ.get("CRM_TEST_EVERY_CRASH_POINT") == "1"


@pytest.fixture(scope="module")
def next_day(clean_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The clean pipeline's warehouse and published files, its CRM advanced one day: where every case starts."""
    folder = clean_pipeline.copy_to(tmp_path_factory.mktemp("crash_points") / "data")
    simulator.advance(folder.source_url, days=1, seed=7)
    return folder.on(folder.as_of + timedelta(days=1))


@pytest.fixture(scope="module")
def uncrashed_run(next_day: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """That day's run when nothing crashes: its folder."""
    work = tmp_path_factory.mktemp("uncrashed")
    pipeline = next_day.copy_to(work / "data")
    finished = pipeline.run_command("run", dagster_home=work / "dagster_home")
    assert finished.returncode == 0, finished.stderr[-3000:]
    return pipeline


@pytest.fixture(scope="module")
def uncrashed(uncrashed_run: Pipeline) -> dict[str, tuple]:
    """The published marts of that day's run when nothing crashes."""
    return table_fingerprints(uncrashed_run.published_path, "marts")


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
    assert_no_watermark_ahead_of_its_data(partial(duckdb_query, folder.warehouse_path))

    recovered = folder.run_command("run", dagster_home=dagster_home)

    assert_it_found_the_crashed_run_dead_and_succeeded(recovered, dagster_home)
    with duckdb.connect(str(folder.warehouse_path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        assert_raw_matches_source(con, folder.source_url)  # no row lost or doubled
    assert table_fingerprints(folder.published_path, "marts") == uncrashed
    assert table_fingerprints(folder.published_path, "marts") != before  # the day's changes were published
    assert_parquet_matches_the_published_file(folder.published_path)
    (version,) = folder.published_path.parent.glob(".published.*")  # the killed publish's version is gone
    assert folder.published_path.resolve().parent == version


def test_a_first_run_killed_after_its_raw_merge_is_finished_by_the_next_run_as_if_never_killed(
    clean_pipeline: Pipeline, tmp_path: Path
):
    """The killed run merged raw and built nothing; the next run re-reads the look-back window (stamping those rows
    again) and takes the first snapshot. Its history begins where the clean pipeline's (never killed) begins."""
    if not EVERY_CRASH_POINT:
        pytest.skip("a killed first run: CRM_TEST_EVERY_CRASH_POINT=1 runs it (its rule is a dbt unit test in CI)")
    folder = Pipeline(tmp_path / "data", as_of=clean_pipeline.as_of)
    folder.data_dir.mkdir()
    shutil.copy(clean_pipeline.data_dir / "crm.sqlite", folder.data_dir / "crm.sqlite")
    dagster_home = tmp_path / "dagster_home"

    crashed = folder.run_command("run", dagster_home=dagster_home, environment={CRASH_AT_VARIABLE: "raw_merged"})

    assert crashed.returncode == -signal.SIGKILL, f"did not crash after the merge: {crashed.stderr[-2000:]}"
    assert not folder.published_path.exists()
    recovered = folder.run_command("run", dagster_home=dagster_home)

    assert_it_found_the_crashed_run_dead_and_succeeded(recovered, dagster_home)
    first_day = "select min(date_day), count(*) from marts.mart_pipeline_snapshot_daily"
    with (
        duckdb.connect(str(folder.published_path), read_only=True) as con,
        duckdb.connect(str(clean_pipeline.published_path), read_only=True) as clean,
    ):
        assert con.execute(first_day).fetchone() == clean.execute(first_day).fetchone()
    assert table_fingerprints(folder.published_path, "marts") == table_fingerprints(
        clean_pipeline.published_path, "marts"
    )


@pytest.fixture(scope="module")
def next_day_on_postgres(
    clean_pipeline: Pipeline, next_day: Pipeline, postgres: Server, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Pipeline, str]:
    """The clean pipeline's first day run on Postgres, its CRM then replaced by next_day's: every Postgres case
    starts from a copy of that database (the folder, and the database's name)."""
    folder = Pipeline(tmp_path_factory.mktemp("crash_points_postgres") / "data", as_of=clean_pipeline.as_of)
    folder.data_dir.mkdir()
    shutil.copy(clean_pipeline.data_dir / "crm.sqlite", folder.data_dir / "crm.sqlite")
    database = postgres.create_database()
    create_reader_role(postgres, database)
    first_day = folder.run(environment=postgres_env(postgres, database))
    assert first_day.success, failure_messages(first_day)
    shutil.copy(next_day.data_dir / "crm.sqlite", folder.data_dir / "crm.sqlite")
    return folder.on(next_day.as_of), database


@pytest.mark.parametrize("point", POSTGRES_CRASH_POINTS)
def test_a_run_killed_on_postgres_is_recovered_by_the_next_run(
    point: str,
    next_day_on_postgres: tuple[Pipeline, str],
    postgres: Server,
    clean_pipeline: Pipeline,
    uncrashed_run: Pipeline,
    tmp_path: Path,
):
    if point not in POSTGRES_CI_CRASH_POINTS and not EVERY_CRASH_POINT:
        pytest.skip(f"crash point {point} on Postgres: CRM_TEST_EVERY_CRASH_POINT=1 runs it")
    template, template_database = next_day_on_postgres
    folder = template.copy_to(tmp_path / "data")
    database = postgres.create_database(copy_of=template_database)
    url = postgres.url(database)
    environment = postgres_env(postgres, database)
    dagster_home = tmp_path / "dagster_home"

    crashed = folder.run_command(
        "run", dagster_home=dagster_home, environment={**environment, CRASH_AT_VARIABLE: point}
    )

    assert crashed.returncode == -signal.SIGKILL, f"did not crash at {point}: {crashed.stderr[-2000:]}"
    wait_for_its_orphans(folder.warehouse_path)
    # Both points come before the publish: readers still see the first day's marts, whole.
    assert_same_published_rows(clean_pipeline.published_path, "Postgres after the crash", _marts_of(url))
    assert_no_watermark_ahead_of_its_data(partial(postgres_query, url))

    recovered = folder.run_command("run", dagster_home=dagster_home, environment=environment)

    assert_it_found_the_crashed_run_dead_and_succeeded(recovered, dagster_home)
    for table in SOURCE_TABLES:  # no row lost or doubled
        assert postgres_rows(url, table.name) == source_rows(folder.source_url, table.name), table.name
    assert_same_published_rows(uncrashed_run.published_path, f"Postgres recovered from {point}", _marts_of(url))


def _marts_of(url: str) -> Callable[[str, Sequence[str]], list[tuple]]:
    return partial(sqlalchemy_rows, url)


def postgres_query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            return [tuple(row) for row in con.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def assert_it_found_the_crashed_run_dead_and_succeeded(recovered, dagster_home: Path) -> None:
    """The run after a crash succeeded, said in one line that the crashed run died, failed it and freed its slots."""
    assert recovered.returncode == 0, recovered.stdout[-3000:] + recovered.stderr[-3000:]
    (said,) = [line for line in (recovered.stdout + recovered.stderr).splitlines() if "died without finishing" in line]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        crashed_run, next_run = reversed(instance.get_runs())
        assert said.split(" - ")[-1].startswith(f"run {crashed_run.run_id} (pid ")
        assert (crashed_run.status, next_run.status) == (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS)
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots == []


def wait_for_its_orphans(warehouse: Path) -> None:
    """A run killed mid-dbt leaves its dbt build running (the next run would end it): let it finish, so that the
    warehouse can be inspected as the crash left it."""
    holder = WriterLock(writer_lock_path(warehouse)).holder()
    deadline = time.monotonic() + 300
    while holder and any(child.is_gone() is False for child in holder.children):
        assert time.monotonic() < deadline, "the killed run's dbt build did not finish in 5 minutes"
        time.sleep(0.5)


def assert_no_watermark_ahead_of_its_data(query: Callable[[str], list[tuple]]) -> None:
    """A table's watermark never passes the newest row its raw table holds (query: the warehouse's rows of a SQL)."""
    for table in SOURCE_TABLES:
        ((watermark,),) = query(f"select watermark from {EXTRACT_STATE_TABLE} where table_name = '{table.name}'")
        ((newest,),) = query(f"select max(updated_at) from raw.{table.name}")
        assert watermark is None or newest is None or watermark <= newest, table.name


def duckdb_query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def assert_parquet_matches_the_published_file(published_path: Path) -> None:
    parquet_dir = published_path.parent / "parquet"
    with duckdb.connect(str(published_path), read_only=True) as con:
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall():
            in_file = con.execute(f"select count(*) from marts.{name}").fetchone()
            in_parquet = con.execute(f"select count(*) from '{parquet_dir / name}.parquet'").fetchone()
            assert in_file == in_parquet, name
