"""raw._quarantine lists the rows that break WARN rules, once each, for the latest version of each row."""

from __future__ import annotations

from datetime import datetime

import duckdb

from orchestration.quality.gate_config import Severity
from orchestration.quality.quarantine import QUARANTINE_TABLE, quarantine
from orchestration.quality.suites import RAW_LAYER, suites_in
from orchestration.quality.validation import RuleOutcome
from orchestration.warehouse_sql import DuckDBSession

SUITE = suites_in(RAW_LAYER)["opportunities"]
ABSURD = "select opportunity_id from landing.opportunities where amount > 1000"


def outcome(row_query: str | None = ABSURD, passed: bool = False) -> RuleOutcome:
    return RuleOutcome(suite=SUITE, rule=SUITE.rule("amount_under_ceiling"), severity=Severity.WARN, passed=passed,
                       failing_count=None, observed_value=None, sample_keys=[], row_query=row_query, error=None,
                       docs_page=None)


def land(con: duckdb.DuckDBPyConnection, amounts: dict[int, int]) -> None:
    con.execute("create or replace table landing.opportunities (opportunity_id bigint, amount decimal(18,2))")
    con.executemany("insert into landing.opportunities values (?, ?)", list(amounts.items()))


def listed(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"select primary_key, rule, severity, load_id from {QUARANTINE_TABLE} order by all").fetchall()


def run(con: duckdb.DuckDBPyConnection, load_id: str, full_refresh: bool = False) -> dict:
    return quarantine(DuckDBSession(con), [outcome()], full_refresh_tables=frozenset({"opportunities"} if full_refresh else ()),
                      load_id=load_id, detected_at=datetime(2026, 6, 30))


def test_rows_of_a_failed_warn_rule_are_listed_with_the_rule_and_the_load(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema landing")
        land(con, {1: 5, 2: 5000, 3: 9000})
        assert run(con, "load-1") == {("opportunities", "amount_under_ceiling"): 2}
        assert listed(con) == [("{'opportunity_id': 2}", "amount_under_ceiling", "WARN", "load-1"),
                               ("{'opportunity_id': 3}", "amount_under_ceiling", "WARN", "load-1")]


def test_a_row_is_listed_once_and_leaves_the_list_when_a_later_version_is_fixed(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema landing")
        land(con, {1: 5, 2: 5000, 3: 9000})
        run(con, "load-1")
        run(con, "load-2")  # the same batch read again (a run that stopped later): no second entry
        assert [row[0] for row in listed(con)] == ["{'opportunity_id': 2}", "{'opportunity_id': 3}"]
        land(con, {2: 50})  # key 2 fixed in the source; key 3 is not in this batch and stays listed
        run(con, "load-3")
        assert [row[0] for row in listed(con)] == ["{'opportunity_id': 3}"]


def test_a_full_refresh_judges_the_whole_table_again(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema landing")
        land(con, {3: 9000})
        run(con, "load-1")
        land(con, {4: 7000})
        run(con, "load-2", full_refresh=True)
        assert [row[0] for row in listed(con)] == ["{'opportunity_id': 4}"]


def test_passed_rules_and_rules_without_rows_list_nothing(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema landing")
        land(con, {2: 5000})
        assert quarantine(DuckDBSession(con), [outcome(passed=True), outcome(row_query=None)], full_refresh_tables=frozenset(),
                          load_id="l", detected_at=datetime(2026, 6, 30)) == {}
        assert listed(con) == []
