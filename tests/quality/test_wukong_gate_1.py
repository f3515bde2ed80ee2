"""Gate 1 on 悟空CRM's tables: every rule passes on clean data, fails on a row broken for it naming the 悟空CRM
table, the rule and the row's key; an unknown code warns and lists its rows in quarantine, never drops them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.quality.checks import _summary
from orchestration.quality.gates import GateRun, run_gate_1
from orchestration.quality.quarantine import QUARANTINE_TABLE
from orchestration.resources import WarehouseResource
from orchestration.source_system import WUKONG, source_system
from tests.quality.test_gate_1_rules import Breaker, failing_keys
from tests.support.landed import land_every_table, warehouse_copy
from tests.support.pipeline import shipped_gates
from tests.support.wukong_db import create_wukong_database, wukong_rows

SYSTEM = source_system(WUKONG)
AS_OF = date(2026, 6, 30)
# Rules about the whole table, with no row to break.
TABLE_RULES = {"source_keys_unique", "row_count_not_dropping", "updated_at_fresh"}


@pytest.fixture(scope="module")
def landed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose every 悟空CRM table (and the file-drop tables, empty) is landed, nothing merged yet."""
    folder = tmp_path_factory.mktemp("wukong_gate")
    url = create_wukong_database(folder / "wukong.sqlite", wukong_rows(20))  # a row to break per rule
    return land_every_table(SYSTEM, url, folder / "warehouse.duckdb", load_id="wk-run")


@pytest.fixture()
def warehouse(landed_template: Path, tmp_path: Path) -> WarehouseResource:
    return warehouse_copy(landed_template, tmp_path)


def run_gate(warehouse: WarehouseResource, docs: Path, *tables: str) -> GateRun:
    """Gate 1 on every table of the 悟空CRM system, or on `tables`, judging dates in Shanghai time."""
    return run_gate_1(
        warehouse,
        docs_dir=docs,
        docs_keep_days=30,
        gates=shipped_gates(),
        tables=[SYSTEM.table(name) for name in tables] if tables else list(SYSTEM.tables),
        as_of=AS_OF,
        reporting_currency="CNY",
        load_id="wk-run",
        source_timezone="Asia/Shanghai",
        source_currency="CNY",  # as a 悟空CRM run passes CRM_SOURCE_CURRENCY
    )


def test_every_wukong_rule_passes_on_clean_data(warehouse, tmp_path):
    run = run_gate(warehouse, tmp_path / "docs")
    failed = [f"{o.suite.name}.{o.rule.name} {o.severity.value}" for o in run.outcomes if not o.passed]
    assert failed == []
    # no rates were dropped, and none are needed (CNY amounts, CNY marts): fx_rates' freshness stays quiet
    (fresh,) = [o for o in run.outcomes if o.suite.table == "fx_rates" and o.rule.name == "updated_at_fresh"]
    assert fresh.observed_value == "not checked: fx_rates_needed is false this run"
    assert not any(o.blocks for o in run.outcomes)
    assert {o.suite.table for o in run.outcomes} == {table.name for table in SYSTEM.tables}


def test_every_wukong_row_rule_fails_on_its_broken_row_naming_the_table_the_rule_and_the_key(warehouse, tmp_path):
    broken: dict[tuple[str, str], str] = {}
    with duckdb.connect(warehouse.path) as con:
        breaker = Breaker(con, {})
        for table in SYSTEM.database_tables:
            from orchestration.quality.suites import RAW_LAYER, suites_in

            for rule in suites_in(RAW_LAYER)[table.name].rules:
                key = breaker.break_rule(table, rule)
                if key is not None:
                    broken[(table.name, rule.name)] = key
                else:
                    assert rule.name in TABLE_RULES, (table.name, rule.name)
    run = run_gate(warehouse, tmp_path / "docs")
    outcomes = {(o.suite.table, o.rule.name): o for o in run.outcomes}
    with duckdb.connect(warehouse.path, read_only=True) as con:
        found = failing_keys(con, run)
    for (table, rule), key in broken.items():
        outcome = outcomes[(table, rule)]
        assert not outcome.passed and outcome.failing_count >= 1, (table, rule)
        assert key in found[(table, rule)], (table, rule, key)
        summary = _summary(outcome)
        # the key as the operator reads it: {'contract_id': 5}, or {'contract_id': None} for a row without one
        assert summary.startswith(f"raw.{table}: rule {rule} (") and key.replace("NULL", "None") in summary, summary
    assert any(o.blocks for o in run.outcomes)
    # the codes warn (gates.yml: *_code_known); keys and needed columns stop the run
    severities = {name: outcomes[name].severity.value for name in broken}
    assert severities[("wk_crm_contract", "check_status_code_known")] == "WARN"
    assert severities[("wk_crm_business", "is_end_code_known")] == "WARN"
    assert severities[("wk_crm_contract", "contract_id_not_null")] == "ERROR"
    assert severities[("wk_crm_business", "customer_id_not_null")] == "ERROR"


def test_an_unknown_code_warns_and_its_rows_are_quarantined_not_dropped(warehouse, tmp_path):
    with duckdb.connect(warehouse.path) as con:
        con.execute("update landing.wk_crm_contract set check_status = 9 where contract_id = 5")
        con.execute("update landing.wk_crm_receivables_plan set received_status = 7 where receivables_plan_id = 2")
        con.execute("update landing.wk_crm_activity set type = 12 where activity_id in (3, 4)")
    run = run_gate(warehouse, tmp_path / "docs")

    failed = {(o.suite.table, o.rule.name): o for o in run.outcomes if not o.passed and o.suite.table != "fx_rates"}
    assert set(failed) == {
        ("wk_crm_contract", "check_status_code_known"),
        ("wk_crm_receivables_plan", "received_status_code_known"),
        ("wk_crm_activity", "type_code_known"),
    }
    assert not any(o.blocks for o in run.outcomes)
    assert failed[("wk_crm_contract", "check_status_code_known")].sample_keys == [{"contract_id": 5}]
    with duckdb.connect(warehouse.path, read_only=True) as con:
        listed = con.execute(
            f"select table_name, primary_key, rule, severity from {QUARANTINE_TABLE} order by 1, 2"
        ).fetchall()
        # the rows stay in the batch, to be merged into raw with the rest
        assert con.execute("select count(*) from landing.wk_crm_contract").fetchone()[0] == 20
    assert listed == [
        ("wk_crm_activity", "{'activity_id': 3}", "type_code_known", "WARN"),
        ("wk_crm_activity", "{'activity_id': 4}", "type_code_known", "WARN"),
        ("wk_crm_contract", "{'contract_id': 5}", "check_status_code_known", "WARN"),
        ("wk_crm_receivables_plan", "{'receivables_plan_id': 2}", "received_status_code_known", "WARN"),
    ]


def test_dates_are_judged_against_the_as_of_date_in_the_crms_local_time(warehouse, tmp_path):
    # The as-of date 2026-06-30 ends at midnight UTC: 08:00 on 1 July in Shanghai, where 悟空CRM wrote these times.
    with duckdb.connect(warehouse.path) as con:
        con.execute("update landing.wk_crm_business set create_time = '2026-07-01 07:00' where business_id = 1")
        con.execute("update landing.wk_crm_business set create_time = '2026-07-01 09:00' where business_id = 2")
    run = run_gate(warehouse, tmp_path / "docs", "wk_crm_business")
    (late,) = [o for o in run.outcomes if not o.passed]
    assert (late.rule.name, late.severity.value, late.sample_keys) == (
        "create_time_not_after_as_of",
        "WARN",
        [{"business_id": 2}],
    )


def test_without_rates_for_the_source_currency_gate_1_stops_the_run_with_the_advice(warehouse, tmp_path):
    def gate(reporting_currency: str) -> GateRun:
        return run_gate_1(
            warehouse,
            docs_dir=tmp_path / "docs",
            docs_keep_days=30,
            gates=shipped_gates(),
            tables=[SYSTEM.table("fx_rates")],
            as_of=AS_OF,
            reporting_currency=reporting_currency,
            load_id="wk-run",
            source_currency="CNY",
        )

    stopped = gate("USD")  # 悟空CRM's amounts are in CNY, the marts in USD, and no fx_rates file was dropped
    (missing,) = [o for o in stopped.outcomes if o.rule.name == "source_currency_has_rates"]
    assert any(o.blocks for o in stopped.outcomes) and not missing.passed and missing.severity.value == "ERROR"
    assert "drop an fx_rates file, or set CRM_REPORTING_CURRENCY" in _summary(missing)
    # rates are needed, so their freshness is checked (and warns: none were dropped)
    assert [o.passed for o in stopped.outcomes if o.rule.name == "updated_at_fresh"] == [False]
    same_currency = gate("CNY")
    assert [o.passed for o in same_currency.outcomes if o.rule.name == "source_currency_has_rates"] == [True]
