"""Daily runs: a small simulated CRM advanced one day at a time, with crm_elt run after each day.

One module fixture takes the CRM through four days (the generated history, then three `advance`s) and keeps
what each run left behind, so every test reads the same runs: the whole module costs five crm_elt runs. To keep
them cheap they extract every table but build only what these tests read (DAILY_RUN_SELECTION): the
incremental facts, the snapshots and the marts built on them, with everything upstream and their checks.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import simulator
from tests.support.dbt import run_dbt
from tests.support.pipeline import (
    Pipeline,
    failure_messages,
    materialization_metadata,
    observation_metadata,
    table_fingerprints,
)
from tests.support.raw_comparison import assert_raw_matches_source

FIRST_DAY = date(2026, 6, 30)
DAYS_ADVANCED = 3
# Models whose build merges a delta into what the table already holds; every other model is rebuilt whole.
INCREMENTAL_SELECTOR = "config.materialized:incremental"
# The models these tests read, and those the dbt tests of their upstream models join to.
DAILY_RUN_SELECTION = (
    dg.AssetSelection.key_prefixes(["landing"], ["raw"])
    | dg.AssetSelection.keys(
        *(
            ["marts", name]
            for name in (
                "fct_activities",
                "fct_payments",
                "fct_contracts",
                "fct_opportunity_stage_history",
                "mart_pipeline_snapshot_daily",
                "mart_opportunity_kpis_monthly",
                "mart_sales_funnel",
                "dim_users",
                "fct_opportunity_lines",
                "fct_payment_plans",
            )
        ),
        *(["snapshots", name] for name in ("snap_opportunities", "snap_customers", "snap_users")),
        *(["staging", name] for name in ("stg_crm__contacts", "stg_crm__invoices")),
    ).upstream()
)


@dataclass(frozen=True)
class Day:
    """What one daily run left behind."""

    as_of: date
    result: dg.ExecuteInProcessResult
    marts: dict[str, tuple]
    incremental_models: dict[str, tuple]
    incremental_models_rebuilt: dict[str, tuple]


@dataclass(frozen=True)
class DailyRuns:
    pipeline: Pipeline
    days: list[Day]
    marts_after_rerun: dict[str, tuple]


def incremental_model_names() -> list[str]:
    """The models dbt builds incrementally, from the prepared manifest."""
    from orchestration.dbt_project import crm_dbt_project

    nodes = json.loads(crm_dbt_project.manifest_path.read_text())["nodes"].values()
    return sorted(
        n["name"] for n in nodes if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
    )


def rebuilt_from_scratch(pipeline: Pipeline, models: list[str], work_dir: Path) -> dict[str, tuple]:
    """The incremental models as a full refresh builds them from the same raw tables, in a copy."""
    copy = work_dir / f"rebuild_{pipeline.as_of}" / "warehouse.duckdb"
    copy.parent.mkdir(parents=True)
    shutil.copy(pipeline.warehouse_path, copy)
    run_dbt(
        ["run", "--full-refresh", "--select", INCREMENTAL_SELECTOR],
        warehouse_path=copy,
        as_of_date=pipeline.as_of.isoformat(),
    )
    return table_fingerprints(copy, "marts", models)


def run_day(pipeline: Pipeline, models: list[str], work_dir: Path) -> Day:
    result = pipeline.run(asset_selection=DAILY_RUN_SELECTION)
    assert result.success, failure_messages(result)
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        assert_raw_matches_source(con, pipeline.source_url)
    return Day(
        as_of=pipeline.as_of,
        result=result,
        marts=table_fingerprints(pipeline.warehouse_path, "marts"),
        incremental_models=table_fingerprints(pipeline.warehouse_path, "marts", models),
        incremental_models_rebuilt=rebuilt_from_scratch(pipeline, models, work_dir),
    )


@pytest.fixture(scope="module")
def daily_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DailyRuns]:
    from orchestration.dbt_project import prepare_dbt_manifest

    work_dir = tmp_path_factory.mktemp("daily_runs")
    pipeline = Pipeline(work_dir / "data", as_of=FIRST_DAY)
    pipeline.data_dir.mkdir()
    simulator.generate(pipeline.source_url, opportunities=120, seed=5, end_date=FIRST_DAY, quiet=True)
    prepare_dbt_manifest()
    models = incremental_model_names()
    days = [run_day(pipeline, models, work_dir)]
    for _ in range(DAYS_ADVANCED):
        summary = simulator.advance(pipeline.source_url, days=1)
        pipeline = pipeline.on(summary.last_day)
        days.append(run_day(pipeline, models, work_dir))
    rerun = pipeline.run(asset_selection=DAILY_RUN_SELECTION)
    assert rerun.success, failure_messages(rerun)
    yield DailyRuns(pipeline, days, table_fingerprints(pipeline.warehouse_path, "marts"))


def test_each_day_raw_and_incremental_marts_equal_a_rebuild_from_scratch(daily_runs):
    # raw equals the source row by row after every run (checked in run_day); here the incremental marts
    assert [day.as_of for day in daily_runs.days] == [FIRST_DAY + timedelta(days=n) for n in range(DAYS_ADVANCED + 1)]
    for day in daily_runs.days:
        assert day.incremental_models, "no incremental model was found to compare"
        assert day.incremental_models == day.incremental_models_rebuilt, f"as of {day.as_of}"
    fingerprints = {
        model: {day.incremental_models[model] for day in daily_runs.days}
        for model in daily_runs.days[0].incremental_models
    }
    assert len(fingerprints["fct_activities"]) > 1 and len(fingerprints["fct_opportunity_stage_history"]) > 1, (
        "the days changed the large facts"
    )


def test_running_the_same_day_twice_gives_identical_marts(daily_runs):
    assert daily_runs.marts_after_rerun == daily_runs.days[-1].marts


def test_a_daily_run_reads_only_the_delta_and_reports_rows_changed_per_table(daily_runs):
    first, second = daily_runs.days[0].result, daily_runs.days[1].result
    full = materialization_metadata(first, "landing", "activities")
    delta = materialization_metadata(second, "landing", "activities")
    assert (full["mode"], delta["mode"]) == ("full_refresh", "incremental")
    assert 0 < delta["rows_read"] < full["rows_read"] / 10
    merged = materialization_metadata(second, "raw", "opportunities")
    assert merged["rows_inserted"] + merged["rows_updated"] > 0
    snapshot = observation_metadata(second, "snapshots", "snap_opportunities")
    assert (
        0
        < snapshot["versions_added"]
        == snapshot["rows_changed"] + snapshot["rows_new"]
        < snapshot["dagster/row_count"]
    )
    assert snapshot["rows_changed"] > 0


def day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min)


def test_snapshot_history_gives_each_days_stage_as_the_simulator_recorded_it(daily_runs):
    pipeline = daily_runs.pipeline
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as con:
        versions = con.execute(
            "select opportunity_id, stage, dbt_valid_from, dbt_valid_to from snapshots.snap_opportunities"
        ).fetchall()
    with sqlite3.connect(pipeline.data_dir / "crm.sqlite") as source:
        moves = source.execute(
            "select opportunity_id, lower(trim(to_stage)), changed_at from opportunity_stage_history"
            " order by changed_at, history_id"
        ).fetchall()  # the last change before a moment wins

    stage_by_day = []
    for day in (d.as_of for d in daily_runs.days):
        end = day_end(day)
        from_snapshots = {
            opportunity: stage
            for opportunity, stage, valid_from, valid_to in versions
            if valid_from < end and (valid_to is None or valid_to >= end)
        }
        recorded = {
            opportunity: stage for opportunity, stage, changed_at in moves if changed_at < end.isoformat(sep=" ")
        }
        assert from_snapshots == recorded, f"stages at the end of {day}"
        stage_by_day.append(from_snapshots)
    moved = {o for before, after in zip(stage_by_day, stage_by_day[1:]) for o in before if before[o] != after[o]}
    assert len(stage_by_day[0]) > 100 and moved, "some opportunities moved stage during the simulated days"


def test_the_daily_pipeline_mart_holds_one_row_per_day_and_open_stage(daily_runs):
    pipeline = daily_runs.pipeline
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as con:
        days = [
            r[0]
            for r in con.execute(
                "select distinct date_day from marts.mart_pipeline_snapshot_daily order by 1"
            ).fetchall()
        ]
        last_day = dict(
            con.execute(
                "select stage, open_opportunities from marts.mart_pipeline_snapshot_daily where date_day = ?",
                [pipeline.as_of],
            ).fetchall()
        )
    with sqlite3.connect(pipeline.data_dir / "crm.sqlite") as source:
        open_now = dict(
            source.execute(
                "select lower(trim(stage)), count(*) from opportunities"
                " where status = 'open' and not is_deleted group by 1"
            ).fetchall()
        )
    assert days[0] <= FIRST_DAY and days[-1] == pipeline.as_of
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]
    assert last_day == {
        stage: open_now.get(stage, 0) for stage in ("lead", "contacted", "qualified", "proposal", "negotiation")
    }


def test_without_crm_stage_history_the_funnel_is_derived_from_the_snapshots(daily_runs, tmp_path):
    pipeline = daily_runs.pipeline
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from raw.opportunity_stage_history")
    # the stage changes and the funnel are views over raw; the tables that read them are rebuilt
    run_dbt(
        ["run", "--select", "mart_sales_funnel", "fct_opportunity_stage_history"],
        warehouse_path=copy,
        as_of_date=pipeline.as_of.isoformat(),
    )
    with duckdb.connect(str(copy), read_only=True) as con:
        funnel = con.execute(
            "select stage, opportunities_reached from marts.mart_sales_funnel order by stage_order"
        ).fetchall()
        opportunities, won = con.execute(
            "select count(*), count(*) filter (where is_won) from marts.fct_opportunities"
        ).fetchone()
        derived = con.execute(
            "select count(*), bool_and(is_derived_from_snapshots)"
            " from intermediate.int_opportunity_stage_changes__unioned"
        ).fetchone()
        opportunities_with_spells = con.execute(
            "select count(distinct opportunity_id) from marts.fct_opportunity_stage_history"
        ).fetchone()[0]
    reached = [count for _, count in funnel]
    assert [stage for stage, _ in funnel] == ["lead", "contacted", "qualified", "proposal", "negotiation", "won"]
    assert reached[0] == opportunities > 0
    assert reached == sorted(reached, reverse=True)
    assert reached[-1] == won > 0
    assert derived[0] >= opportunities and derived[1]
    assert opportunities_with_spells == opportunities
