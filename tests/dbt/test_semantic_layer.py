"""The dbt Semantic Layer: `mf validate-configs` passes and `mf query` agrees with the marts.

MetricFlow reads `<project root>/target/semantic_manifest.json` whatever --target-path says, so the dbt
project is copied to a temporary folder and parsed and run there (the shared dbt_project/target is left
alone). The warehouse is the hand-made CRM of test_metric_marts.py, as of 2024-03-15.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.dbt.test_metric_marts import AS_OF_DATE, RAW_TABLES
from tests.support.dbt import DBT_PROJECT_DIR
from tests.support.raw_fixture import write_raw_tables

BIN = Path(sys.executable).parent


def _run(args: list[str], project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-5000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("semantic_layer")
    project_dir = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project_dir, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    warehouse = root / "warehouse.duckdb"
    write_raw_tables(warehouse, RAW_TABLES)
    env = {
        **os.environ,
        "CRM_WAREHOUSE_PATH": str(warehouse),
        "CRM_AS_OF_DATE": AS_OF_DATE,
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    _run(
        [
            str(BIN / "dbt"),
            "build",
            "--resource-type",
            "seed",
            "--resource-type",
            "snapshot",
            "--resource-type",
            "model",
            "--no-version-check",
        ],
        project_dir,
        env,
    )
    return project_dir, env


def _mf_query(project: tuple[Path, dict[str, str]], metrics: str, group_by: str) -> list[dict[str, str]]:
    project_dir, env = project
    out = project_dir / f"query_{metrics.replace(',', '_')}.csv"
    _run(
        [
            str(BIN / "mf"),
            "query",
            "--metrics",
            metrics,
            "--group-by",
            group_by,
            "--order",
            group_by,
            "--csv",
            str(out),
        ],
        project_dir,
        env,
    )
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> Decimal | None:
    return None if text in ("", "None") else round(Decimal(text), 6)


def test_semantic_configs_validate_against_the_warehouse(project) -> None:
    project_dir, env = project
    result = _run([str(BIN / "mf"), "validate-configs"], project_dir, env)
    assert "Successfully validated the semantics of built manifest" in result.stdout
    assert "Breaking issues" not in result.stdout
    assert "Successfully validated metrics against data warehouse" in result.stdout


def test_mf_query_gives_the_opportunity_kpis_of_the_mart(project) -> None:
    rows = _mf_query(
        project, "win_rate,average_deal_size,sales_cycle_days,open_pipeline,weighted_pipeline", "metric_time__month"
    )
    by_month = {row["metric_time__month"][:10]: row for row in rows}
    project_dir, env = project
    with duckdb.connect(env["CRM_WAREHOUSE_PATH"], read_only=True) as con:
        mart = con.execute("""
            select cast(month_start as varchar), win_rate, avg_deal_size, avg_sales_cycle_days,
                   open_pipeline_amount, weighted_pipeline_amount
            from marts.mart_opportunity_kpis_monthly order by month_start
        """).fetchall()
    assert mart
    for month, win_rate, deal_size, cycle, pipeline, weighted in mart:
        row = by_month[month]
        assert _number(row["win_rate"]) == (None if win_rate is None else round(win_rate, 6)), month
        assert _number(row["average_deal_size"]) == (None if deal_size is None else round(deal_size, 6)), month
        assert _number(row["sales_cycle_days"]) == (None if cycle is None else round(cycle, 6)), month
        assert _number(row["open_pipeline"]) == round(pipeline, 6), month
        assert _number(row["weighted_pipeline"]) == round(weighted, 6), month


def test_mf_query_gives_contracts_payments_and_collection_rate_of_the_marts(project) -> None:
    rows = _mf_query(project, "contract_amount,payment_amount,collection_rate", "metric_time__month")
    by_month = {row["metric_time__month"][:10]: row for row in rows}
    project_dir, env = project
    with duckdb.connect(env["CRM_WAREHOUSE_PATH"], read_only=True) as con:
        collections = con.execute("""
            select cast(month_start as varchar), collection_rate, payments_received
            from marts.mart_collections_monthly order by month_start
        """).fetchall()
        contracts = con.execute("""
            select cast(date_trunc('month', signed_date) as date)::varchar, sum(amount)
            from marts.fct_contracts group by 1
        """).fetchall()
    for month, rate, received in collections:
        assert _number(by_month[month]["collection_rate"]) == (None if rate is None else round(rate, 6)), month
        assert (_number(by_month[month]["payment_amount"]) or 0) == round(received, 6), month
    for month, amount in contracts:
        assert _number(by_month[month]["contract_amount"]) == round(amount, 6), month


def test_mf_query_gives_target_completion_by_rep_and_cac_by_channel(project) -> None:
    completion = _mf_query(project, "target_completion", "rep,metric_time__month")
    cac = _mf_query(project, "cac", "channel,metric_time__month")
    project_dir, env = project
    with duckdb.connect(env["CRM_WAREHOUSE_PATH"], read_only=True) as con:
        reps = con.execute("""
            select user_id, cast(month_start as varchar), contract_target_completion
            from marts.mart_rep_performance_monthly where contract_amount_target is not null
        """).fetchall()
        channels = con.execute("""
            select source, cast(month_start as varchar), cac from marts.mart_lead_source_monthly
        """).fetchall()
    got_completion = {
        (int(row["rep"]), row["metric_time__month"][:10]): _number(row["target_completion"])
        for row in completion
        if row["rep"] not in ("", "None")
    }
    assert reps
    for user_id, month, value in reps:
        assert got_completion[(user_id, month)] == (None if value is None else round(value, 6)), (user_id, month)
    got_cac = {(row["channel"], row["metric_time__month"][:10]): _number(row["cac"]) for row in cac}
    for source, month, value in channels:
        assert got_cac.get((source, month)) == (None if value is None else round(value, 6)), (source, month)


def test_dbt_docs_generate_documents_every_published_model_and_column(project) -> None:
    project_dir, env = project
    _run([str(BIN / "dbt"), "docs", "generate", "--no-version-check"], project_dir, env)
    manifest = json.loads((project_dir / "target" / "manifest.json").read_text())
    catalog = json.loads((project_dir / "target" / "catalog.json").read_text())
    published = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("meta", {}).get("published")
    ]
    assert len(published) >= 26
    undocumented = []
    for node in published:
        if not node["description"].strip():
            undocumented.append(node["name"])
        built_columns = catalog["nodes"][node["unique_id"]]["columns"]
        for column in built_columns:
            if not node["columns"].get(column, {}).get("description", "").strip():
                undocumented.append(f"{node['name']}.{column}")
    assert not undocumented, f"published models or columns without a description: {undocumented}"
    assert {exposure["name"] for exposure in manifest["exposures"].values()} >= {
        "sales_funnel_dashboard",
        "rep_leaderboard_dashboard",
        "collections_dashboard",
        "customer_profile_dashboard",
        "sales_briefing",
        "pipeline_and_pacing_dashboard",
    }


def test_mf_query_gives_win_rate_by_amount_and_each_reps_pacing_and_coverage_of_the_marts(project) -> None:
    by_amount = _mf_query(project, "win_rate_by_amount", "metric_time__month")
    pacing = _mf_query(project, "pacing_ratio,coverage_ratio", "rep,metric_time__month")
    project_dir, env = project
    with duckdb.connect(env["CRM_WAREHOUSE_PATH"], read_only=True) as con:
        months = con.execute("""
            select cast(month_start as varchar), win_rate_by_amount from marts.mart_opportunity_kpis_monthly
        """).fetchall()
        reps = con.execute("""
            select user_id, cast(month_start as varchar), pacing_ratio, coverage_ratio from marts.mart_target_pacing
        """).fetchall()
    got_by_amount = {row["metric_time__month"][:10]: _number(row["win_rate_by_amount"]) for row in by_amount}
    # February: won 10000 (o1), lost 5000 (o2) → 0.666667; March: won 8000, lost 500 → 0.941176; January: none.
    assert [value for _, value in sorted(months)] == [None, Decimal("0.666667"), Decimal("0.941176")]
    for month, value in months:
        assert got_by_amount.get(month) == value, month
    got_pacing = {
        (int(row["rep"]), row["metric_time__month"][:10]): (
            _number(row["pacing_ratio"]),
            _number(row["coverage_ratio"]),
        )
        for row in pacing
        if row["rep"] not in ("", "None")
    }
    assert len(reps) == 2
    for user_id, month, pacing_ratio, coverage_ratio in reps:
        assert got_pacing[(user_id, month)] == (pacing_ratio, coverage_ratio), (user_id, month)
