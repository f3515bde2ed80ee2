"""raw._quarantine lists the rows that break WARN rules, once each, for the latest version of each row.

The same on both warehouse engines the Dagster job writes: a DuckDB file and a real Postgres server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest

from orchestration.quality.gate_config import Severity
from orchestration.quality.quarantine import QUARANTINE_TABLE, quarantine
from orchestration.quality.suites import RAW_LAYER, suites_in
from orchestration.quality.validation import RuleOutcome
from orchestration.warehouse_sql import DuckDBSession, PostgresSession, SqlSession

SUITE = suites_in(RAW_LAYER)["opportunities"]
ABSURD = "select opportunity_id from landing.opportunities where amount > 1000"


@pytest.fixture(params=["duckdb", "postgres"])
def session(request: pytest.FixtureRequest, tmp_path) -> Iterator[SqlSession]:
    """An empty warehouse with a landing schema, on each engine."""
    if request.param == "duckdb":
        with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
            yield DuckDBSession(con)
        return
    import psycopg2

    server = request.getfixturevalue("postgres")
    con = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname=server.create_database()
    )
    try:
        yield PostgresSession(con)
    finally:
        con.close()


def outcome(row_query: str | None = ABSURD, passed: bool = False) -> RuleOutcome:
    return RuleOutcome(
        suite=SUITE,
        rule=SUITE.rule("amount_under_ceiling"),
        severity=Severity.WARN,
        passed=passed,
        failing_count=None,
        observed_value=None,
        sample_keys=[],
        row_query=row_query,
        error=None,
        docs_page=None,
    )


def land(session: SqlSession, amounts: dict[int, int]) -> None:
    session.execute("create schema if not exists landing")
    session.execute("drop table if exists landing.opportunities")
    session.execute("create table landing.opportunities (opportunity_id bigint, amount decimal(18,2))")
    for key, amount in amounts.items():
        session.execute("insert into landing.opportunities values (?, ?)", [key, amount])


def listed(session: SqlSession) -> list[tuple]:
    return session.rows(f"select primary_key, rule, severity, load_id from {QUARANTINE_TABLE} order by 1, 2, 3, 4")


def run(session: SqlSession, load_id: str, full_refresh: bool = False) -> dict:
    return quarantine(
        session,
        [outcome()],
        full_refresh_tables=frozenset({"opportunities"} if full_refresh else ()),
        load_id=load_id,
        detected_at=datetime(2026, 6, 30),
    )


def test_rows_of_a_failed_warn_rule_are_listed_with_the_rule_and_the_load(session):
    land(session, {1: 5, 2: 5000, 3: 9000})
    assert run(session, "load-1") == {("opportunities", "amount_under_ceiling"): 2}
    assert listed(session) == [
        ("{'opportunity_id': 2}", "amount_under_ceiling", "WARN", "load-1"),
        ("{'opportunity_id': 3}", "amount_under_ceiling", "WARN", "load-1"),
    ]


def test_a_row_is_listed_once_and_leaves_the_list_when_a_later_version_is_fixed(session):
    land(session, {1: 5, 2: 5000, 3: 9000})
    run(session, "load-1")
    run(session, "load-2")  # the same batch read again (a run that stopped later): no second entry
    assert [row[0] for row in listed(session)] == ["{'opportunity_id': 2}", "{'opportunity_id': 3}"]
    land(session, {2: 50})  # key 2 fixed in the source; key 3 is not in this batch and stays listed
    run(session, "load-3")
    assert [row[0] for row in listed(session)] == ["{'opportunity_id': 3}"]


def test_a_full_refresh_judges_the_whole_table_again(session):
    land(session, {3: 9000})
    run(session, "load-1")
    land(session, {4: 7000})
    run(session, "load-2", full_refresh=True)
    assert [row[0] for row in listed(session)] == ["{'opportunity_id': 4}"]


def test_passed_rules_and_rules_without_rows_list_nothing(session):
    land(session, {2: 5000})
    assert (
        quarantine(
            session,
            [outcome(passed=True), outcome(row_query=None)],
            full_refresh_tables=frozenset(),
            load_id="l",
            detected_at=datetime(2026, 6, 30),
        )
        == {}
    )
    assert listed(session) == []


def test_a_failing_insert_lists_nothing_of_the_run(session):
    land(session, {2: 5000})
    with pytest.raises(Exception, match="no_such_table"):
        quarantine(
            session,
            [outcome(), outcome(row_query="select opportunity_id from landing.no_such_table")],
            full_refresh_tables=frozenset(),
            load_id="l",
            detected_at=datetime(2026, 6, 30),
        )
    assert listed(session) == []
