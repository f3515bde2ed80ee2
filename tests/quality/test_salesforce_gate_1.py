"""Gate 1 on Salesforce's synced tables: every rule passes on clean data, fails on a row broken for it naming the
Salesforce table (the object in snake_case), the rule and the row's id; ids whose integer keys collide stop the run
naming both ids; an unknown stage name and a currency without a rate stop it too."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.file_reader import NothingDropped
from orchestration.quality import gates as gates_module
from orchestration.quality.checks import _summary
from orchestration.quality.gates import GateRun, run_gate_1
from orchestration.quality.suites import RAW_LAYER, Rule, suites_in
from orchestration.resources import WarehouseResource
from orchestration.source_reader import SourceReader
from orchestration.source_system import SALESFORCE, source_system
from tests.quality.test_gate_1_rules import Breaker, failing_keys
from tests.support.landed import land_every_table, warehouse_copy
from tests.support.pipeline import shipped_gates
from tests.support.salesforce_db import create_salesforce_database, salesforce_rows, sf_id

SYSTEM = source_system(SALESFORCE)
AS_OF = date(2026, 6, 30)
# Rules about the whole table, with no one row to break (each has its own test below).
TABLE_RULES = {"source_keys_unique", "row_count_not_dropping", "source_id_keys_distinct", "one_corporate_currency"}
# dbt's source_id_key reads these 15 hex digits as the key; the gate compares them as text (same pairs collide).
KEY_DIGITS = "substr(md5(trim(id)), 1, 15)"


def _break_salesforce_rule(breaker: Breaker, table, rule: Rule) -> str | None:
    """The Salesforce suites' own SQL rules, broken as a sync could deliver them; the rest as Breaker does."""
    live = "not is_deleted and not _fivetran_deleted"
    by_name = {
        "id_is_18_characters": lambda: breaker.set(table, {"id": "0065g00000ABCDE"}),  # a 15-character id
        "watermark_not_null": lambda: breaker.set(table, {"_fivetran_synced": None, "system_modstamp": None}),
        "stage_name_in_catalogue": lambda: breaker.set(table, {"stage_name": "Negotiation/Review"}, live),
        "status_flags_agree": lambda: breaker.set(table, {"is_won": True, "is_closed": False}, "not is_won"),
        "currency_has_a_rate": lambda: breaker.set(table, {"currency_iso_code": "XTS"}),
        "iso_code_is_an_org_currency": lambda: breaker.set(table, {"iso_code": "XTS"}),
        "next_start_date_after_start_date": lambda: breaker.set(table, {"next_start_date": date(2026, 6, 1)}),
    }
    if rule.name in by_name:
        return by_name[rule.name]()
    return breaker.break_rule(table, rule)


@pytest.fixture(scope="module")
def landed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose every Salesforce table (and the file-drop tables, empty) is landed, nothing merged yet."""
    folder = tmp_path_factory.mktemp("salesforce_gate")
    url = create_salesforce_database(folder / "salesforce.sqlite", salesforce_rows(20))  # a row to break per rule
    return land_every_table(SYSTEM, url, folder / "warehouse.duckdb", load_id="sf-run")


@pytest.fixture()
def warehouse(landed_template: Path, tmp_path: Path) -> WarehouseResource:
    return warehouse_copy(landed_template, tmp_path)


def run_gate(warehouse: WarehouseResource, docs: Path, *tables: str) -> GateRun:
    """Gate 1 on every table of the Salesforce system, or on `tables`; the sync's times are UTC."""
    return run_gate_1(
        warehouse,
        docs_dir=docs,
        docs_keep_days=30,
        gates=shipped_gates(),
        tables=[SYSTEM.table(name) for name in tables] if tables else list(SYSTEM.tables),
        as_of=AS_OF,
        reporting_currency="USD",
        load_id="sf-run",
    )


def test_every_salesforce_rule_passes_on_clean_data(warehouse, tmp_path):
    run = run_gate(warehouse, tmp_path / "docs")
    failed = [f"{o.suite.name}.{o.rule.name} {o.severity.value}: {o.error}" for o in run.outcomes if not o.passed]
    # no rates were dropped: fx_rates is empty, which its freshness rule reports (a warning, as with the contract)
    assert failed == ["raw.fx_rates.updated_at_fresh WARN: None"]
    assert not any(o.blocks for o in run.outcomes)
    assert {o.suite.table for o in run.outcomes} == {table.name for table in SYSTEM.tables}


def test_every_salesforce_row_rule_fails_on_its_broken_row_naming_the_object_the_rule_and_the_id(warehouse, tmp_path):
    broken: dict[tuple[str, str], str] = {}
    with duckdb.connect(warehouse.path) as con:
        breaker = Breaker(con, {})
        for table in SYSTEM.database_tables:
            for rule in suites_in(RAW_LAYER)[table.name].rules:
                key = _break_salesforce_rule(breaker, table, rule)
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
        assert not outcome.passed and outcome.failing_count >= 1, (table, rule, outcome.error)
        if (table, rule) not in found:
            # GE sometimes leaves the duplicate count of its uniqueness query as a bind parameter ($1): no rows to
            # list then (validation._usable_query), only the count; every other rule names its rows
            assert rule == "key_unique", (table, rule)
            continue
        assert key in found[(table, rule)], (table, rule, key)
        summary = _summary(outcome)
        # the Salesforce table and the id as the operator reads them: raw.opportunity ... {'id': '006...'}
        value = key.removeprefix("{'id': ").removesuffix("}")
        shown = "{'id': " + ("None" if value == "NULL" else repr(value)) + "}"
        assert summary.startswith(f"raw.{table}: rule {rule} (") and shown in summary, summary
    assert any(o.blocks for o in run.outcomes)
    severities = {name: outcomes[name].severity.value for name in broken}
    assert severities[("opportunity", "stage_name_in_catalogue")] == "ERROR"
    assert severities[("opportunity", "currency_has_a_rate")] == "ERROR"
    assert severities[("opportunity", "id_is_18_characters")] == "ERROR"
    assert severities[("opportunity_line_item", "discount_a_percentage")] == "ERROR"
    assert severities[("opportunity", "created_date_not_after_as_of")] == "WARN"
    assert severities[("opportunity_history", "opportunity_id_resolves")] == "WARN"  # the parent may sync later
    assert "Opportunity" in outcomes[("opportunity", "stage_name_in_catalogue")].rule.description


def test_an_unknown_stage_name_stops_the_run_and_a_deleted_opportunitys_does_not(warehouse, tmp_path):
    with duckdb.connect(warehouse.path) as con:
        con.execute("update landing.opportunity set stage_name = 'Closed Won?' where id = ?", [sf_id("opportunity", 3)])
        con.execute(  # an opportunity in the recycle bin counts nowhere: its stage does not matter
            "update landing.opportunity set stage_name = 'Old stage', is_deleted = true where id = ?",
            [sf_id("opportunity", 4)],
        )
        con.execute("update landing.opportunity_stage set is_active = false where api_name = 'Stage 5'")
    run = run_gate(warehouse, tmp_path / "docs", "opportunity", "opportunity_stage")
    (unknown,) = [o for o in run.outcomes if not o.passed]
    assert any(o.blocks for o in run.outcomes) and unknown.rule.name == "stage_name_in_catalogue"
    # a stage that is no longer active is not in the catalogue either
    assert unknown.sample_keys == [{"id": sf_id("opportunity", 3)}, {"id": sf_id("opportunity", 5)}]


def test_ids_whose_integer_keys_collide_stop_the_run_naming_both_ids(warehouse, tmp_path, monkeypatch):
    """Two real ids sharing 15 hex digits of md5 take about 2^30 tries to find: the test shortens the compared digits
    to one, where 20 ids must collide (16 digits), and checks the rule names every id of each colliding pair."""
    suites = dict(suites_in(RAW_LAYER))
    suite = suites["opportunity"]
    rule = suite.rule("source_id_keys_distinct")
    query = rule.kwargs["unexpected_rows_query"]
    assert query.count(KEY_DIGITS) == 3  # the very digits dbt's source_id_key reads
    shortened = replace(
        rule, kwargs={"unexpected_rows_query": query.replace(KEY_DIGITS, "substr(md5(trim(id)), 1, 1)")}
    )
    suites["opportunity"] = replace(suite, rules=tuple(shortened if r is rule else r for r in suite.rules))
    monkeypatch.setattr(gates_module, "suites_in", lambda layer: suites if layer == RAW_LAYER else suites_in(layer))
    with duckdb.connect(warehouse.path, read_only=True) as con:
        ids = [row[0] for row in con.execute("select id from landing.opportunity").fetchall()]
        colliding = {
            row[0]
            for row in con.execute(
                "select id from landing.opportunity where substr(md5(id), 1, 1) in "
                "(select substr(md5(id), 1, 1) from landing.opportunity group by 1 having count(*) > 1)"
            ).fetchall()
        }
    assert len(ids) == 20 and len(colliding) >= 5

    run = run_gate(warehouse, tmp_path / "docs", "opportunity")

    (collision,) = [o for o in run.outcomes if not o.passed]
    assert any(o.blocks for o in run.outcomes) and collision.severity.value == "ERROR"
    assert collision.failing_count == len(colliding)
    with duckdb.connect(warehouse.path, read_only=True) as con:
        assert failing_keys(con, run)[("opportunity", "source_id_keys_distinct")] == {
            f"{{'id': {id_}}}" for id_ in colliding
        }
    assert _summary(collision).startswith("raw.opportunity: rule source_id_keys_distinct (ERROR)")


def test_the_real_key_digits_leave_the_synced_ids_distinct(warehouse, tmp_path):
    run = run_gate(warehouse, tmp_path / "docs", "opportunity", "task", "event")
    assert [o.passed for o in run.outcomes if o.rule.name == "source_id_keys_distinct"] == [True, True, True]


def test_a_multi_currency_org_needs_one_corporate_currency_and_a_single_currency_org_needs_none(warehouse, tmp_path):
    with duckdb.connect(warehouse.path) as con:
        con.execute("update landing.currency_type set is_corporate = true where id = ?", [sf_id("currency_type", 2)])
    two = run_gate(warehouse, tmp_path / "docs", "currency_type")
    (corporate,) = [o for o in two.outcomes if not o.passed]
    assert (
        any(o.blocks for o in two.outcomes)
        and corporate.rule.name == "one_corporate_currency"
        and corporate.failing_count == 20
    )
    # a single-currency org syncs no CurrencyType rows and has no currency_iso_code: nothing to check
    with duckdb.connect(warehouse.path) as con:
        con.execute("delete from landing.currency_type")
        con.execute("update landing._batches set rows_read = 0 where table_name = 'currency_type'")  # none read
        con.execute("update landing.opportunity set currency_iso_code = null")
        con.execute("update landing.forecasting_quota set currency_iso_code = 'EUR'")
    single = run_gate(warehouse, tmp_path / "docs", "currency_type", "opportunity", "forecasting_quota")
    assert [f"{o.suite.table}.{o.rule.name}" for o in single.outcomes if not o.passed] == []


def test_a_single_currency_org_reporting_in_another_currency_needs_dropped_rates(warehouse, tmp_path):
    """No currency_type rows: the amounts are in CRM_SOURCE_CURRENCY (EUR here), and only an fx_rates drop converts
    them to USD; a multi-currency org converts with its own rates, whatever CRM_SOURCE_CURRENCY says."""

    def gate() -> GateRun:
        return run_gate_1(
            warehouse,
            docs_dir=tmp_path / "docs",
            docs_keep_days=30,
            gates=shipped_gates(),
            tables=[SYSTEM.table("fx_rates")],
            as_of=AS_OF,
            reporting_currency="USD",
            load_id="sf-run",
            source_currency="EUR",
        )

    def outcomes(run: GateRun) -> dict[str, bool]:
        return {o.rule.name: o.passed for o in run.outcomes if o.rule.name in RATE_RULES}

    assert outcomes(gate()) == {"source_currency_has_rates": True, "updated_at_fresh": True}  # multi-currency org
    with duckdb.connect(warehouse.path) as con:
        con.execute("delete from landing.currency_type")
    single = gate()
    (missing,) = [o for o in single.outcomes if o.rule.name == "source_currency_has_rates"]
    assert any(o.blocks for o in single.outcomes) and missing.severity.value == "ERROR"
    assert _summary(missing).startswith("raw.fx_rates: rule source_currency_has_rates (ERROR)")
    assert outcomes(single) == {"source_currency_has_rates": False, "updated_at_fresh": False}


RATE_RULES = ("source_currency_has_rates", "updated_at_fresh")


def test_the_salesforce_suites_run_on_a_postgres_warehouse(postgres, tmp_path, monkeypatch):
    """The suites' SQL (md5, the reserved word `user`, boolean flags) is portable: on Postgres, clean batches pass and
    an unknown stage name stops the run naming the opportunity."""
    from orchestration.postgres_raw import PostgresRawLoader

    database = postgres.create_database()
    monkeypatch.setenv("CRM_PG_PASSWORD", postgres.password)
    url = create_salesforce_database(tmp_path / "salesforce.sqlite")
    loader = PostgresRawLoader(postgres.url(database))
    for table in SYSTEM.tables:
        loader.land_table(SourceReader(url) if SYSTEM.reads_database(table) else NothingDropped(), table, load_id="pg")
    warehouse = WarehouseResource(
        target="postgres",
        path="",
        published_path="",
        pg_host=postgres.host,
        pg_port=postgres.port,
        pg_dbname=database,
        pg_user=postgres.user,
    )
    clean = run_gate(warehouse, tmp_path / "docs")
    assert [f"{o.suite.name}.{o.rule.name}: {o.error}" for o in clean.outcomes if not o.passed] == [
        "raw.fx_rates.updated_at_fresh: None"
    ]
    with warehouse.session() as session:
        session.execute("update landing.opportunity set stage_name = 'Bogus' where id = ?", [sf_id("opportunity", 2)])
    stopped = run_gate(warehouse, tmp_path / "docs", "opportunity", "user")
    (unknown,) = [o for o in stopped.outcomes if not o.passed]
    assert any(o.blocks for o in stopped.outcomes) and unknown.rule.name == "stage_name_in_catalogue"
    assert unknown.sample_keys == [{"id": sf_id("opportunity", 2)}]
