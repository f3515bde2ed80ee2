"""Gate 1's rules, one by one: each passes on clean data and fails, with the right keys, on data broken for it.

The warehouse is a copy of a clean pipeline run; every table's rows are landed again as this run's batch and
then broken in place, one row per rule, so that a single gate run proves every rule of every raw suite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from crm_contract import SOURCE_TABLES, SourceTable, source_table
from orchestration.duckdb_raw import drop_landed_batch
from orchestration.quality.gates import GateRun, run_gate_1
from orchestration.quality.suites import RAW_LAYER, Rule, suites_in
from orchestration.raw_schema import BATCHES_TABLE
from orchestration.resources import WarehouseResource
from orchestration.warehouse_sql import duckdb_key_text as key_text
from tests.quality.conftest import AS_OF, Pipeline
from tests.support.pipeline import shipped_gates

AFTER_AS_OF = AS_OF + timedelta(days=3)


def land_raw_again(pipeline: Pipeline, *, mode: str = "incremental", keep_share: float = 1.0) -> None:
    """Make every raw table's rows (or a share of them) this run's pending batch."""
    with duckdb.connect(str(pipeline.warehouse_path)) as con:
        for table in SOURCE_TABLES:
            drop_landed_batch(con, table)
            con.execute(
                f"create table landing.{table.name} as select * from raw.{table.name} "
                f"using sample {keep_share * 100}% (bernoulli, 7)"
                if keep_share < 1
                else f"create table landing.{table.name} as select * from raw.{table.name}"
            )
            con.execute(
                f"insert or replace into {BATCHES_TABLE} "
                "(table_name, load_id, mode, landed_at, max_updated_at, merged_at, rows_read) "
                "values (?, 'test-run', ?, now(), null, null, null)",
                [table.name, mode],
            )


def run_gate(pipeline: Pipeline, *, as_of: date = AS_OF) -> GateRun:
    return run_gate_1(
        WarehouseResource(path=str(pipeline.warehouse_path), published_path=str(pipeline.published_path)),
        docs_dir=pipeline.docs_dir,
        docs_keep_days=30,
        gates=shipped_gates(),
        tables=list(SOURCE_TABLES),
        as_of=as_of,
        reporting_currency="USD",
        load_id="test-run",
    )


@dataclass
class Breaker:
    """Breaks one row of a landed table per rule, each a different row, and returns that row's key as text."""

    con: duckdb.DuckDBPyConnection
    used: dict[str, set[int]]

    def row(self, table: SourceTable, where: str = "true") -> int:
        used = self.used.setdefault(table.name, set())
        for (rowid,) in self.con.execute(
            f"select rowid from landing.{table.name} where {where} order by rowid"
        ).fetchall():
            if rowid not in used:
                used.add(rowid)
                return rowid
        raise AssertionError(f"landing.{table.name} has no unused row where {where}")

    def key(self, table: SourceTable, rowid: int) -> str:
        return self.con.execute(
            f"select {key_text(table.primary_key)} from landing.{table.name} where rowid = ?", [rowid]
        ).fetchone()[0]

    def set(self, table: SourceTable, values: dict[str, object], where: str = "true") -> str:
        rowid = self.row(table, where)
        assignments = ", ".join(f'"{column}" = ?' for column in values)
        self.con.execute(f"update landing.{table.name} set {assignments} where rowid = ?", [*values.values(), rowid])
        return self.key(table, rowid)

    def duplicate(self, table: SourceTable) -> str:
        rowid = self.row(table)
        self.con.execute(
            f"insert into landing.{table.name} select * from landing.{table.name} where rowid = ?", [rowid]
        )
        return self.key(table, rowid)

    def break_rule(self, table: SourceTable, rule: Rule) -> str | None:
        """The key of the row broken for `rule`; None for a rule about the whole table (no rows)."""
        column = rule.kwargs.get("column")
        by_name = {
            "closed_at_agrees_with_status": lambda: self.set(
                table, {"closed_at": datetime(2026, 1, 1)}, "status = 'open'"
            ),
            "loss_reason_only_when_lost": lambda: self.set(table, {"loss_reason": "price"}, "status = 'won'"),
            "status_agrees_with_stage": lambda: self.set(table, {"status": "won"}, "status = 'open'"),
            "closed_at_not_before_created_at": lambda: self.set(
                table, {"closed_at": datetime(2020, 1, 1)}, "closed_at is not null"
            ),
            "open_business_has_a_stage": lambda: self.set(table, {"status_id": None}, "is_end = 0"),
            "status_id_in_its_stage_group": lambda: self.set(table, {"status_id": -1}, "is_end = 0"),
            "status_id_is_a_stage": lambda: self.set(table, {"status_id": -1}),
            "num_is_digits": lambda: self.set(table, {"num": "2a"}),
            "year_is_a_year": lambda: self.set(table, {"year": "26"}),
            "paid_within_plan": lambda: self.set(
                table, {"amount": 90_000_000}, "plan_id is not null and not coalesce(is_deleted, false)"
            ),
        }
        if rule.name in by_name:
            return by_name[rule.name]()
        if rule.name.endswith("_resolves"):
            foreign_key = rule.name.removesuffix("_resolves")
            return self.set(table, {foreign_key: -1}, f"{foreign_key} is not null")
        if rule.type == "expect_column_values_to_not_be_null":
            return self.set(table, {column: None})
        if rule.type in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            return self.duplicate(table)
        if rule.name.endswith("_code_known"):  # a code no CRM writes
            coded = rule.name.removesuffix("_code_known")
            return self.set(table, {coded: 99}, f"{coded} is not null")
        if rule.type == "expect_column_values_to_be_in_set":
            return self.set(table, {column: "bogus"}, f"{column} is not null")
        if rule.type == "expect_column_values_to_be_between":
            return self.set(table, {column: self.out_of_range(table, rule)}, f"{column} is not null")
        return None

    @staticmethod
    def out_of_range(table: SourceTable, rule: Rule) -> object:
        kwargs = rule.kwargs
        if kwargs.get("max_value") in ({"$PARAMETER": "as_of_end"}, {"$PARAMETER": "as_of_end_local"}):
            kind = next(c.type for c in table.columns if c.name == kwargs["column"])
            return AFTER_AS_OF if kind == "date" else datetime.combine(AFTER_AS_OF, datetime.min.time())
        if kwargs.get("max_value") == {"$PARAMETER": "amount_ceiling"}:
            return 987_654_321_012
        if "max_value" in kwargs:
            return kwargs["max_value"] + 1
        return kwargs["min_value"] - 1 if not kwargs.get("strict_min") else kwargs["min_value"]


def failing_keys(con: duckdb.DuckDBPyConnection, run: GateRun) -> dict[tuple[str, str], set[str]]:
    return {
        (o.suite.table, o.rule.name): {
            row[0] for row in con.execute(f"select distinct {key_text(o.suite.key)} from ({o.row_query})").fetchall()
        }
        for o in run.outcomes
        if o.row_query
    }


ROWS_FREE_RULES = {"source_keys_unique", "row_count_not_dropping", "updated_at_fresh", "source_currency_has_rates"}


@pytest.fixture()
def landed(pipeline: Pipeline) -> Pipeline:
    land_raw_again(pipeline)
    return pipeline


def test_every_rule_passes_on_clean_data(landed):
    run = run_gate(landed)
    assert [
        f"{o.suite.name}.{o.rule.name}: {o.error or o.failing_count or o.observed_value}"
        for o in run.outcomes
        if not o.passed
    ] == []
    assert not any(outcome.blocks for outcome in run.outcomes)
    expected = {(t.name, rule.name) for t in SOURCE_TABLES for rule in suites_in(RAW_LAYER)[t.name].rules}
    assert {(o.suite.table, o.rule.name) for o in run.outcomes} == expected
    assert all(Path(o.docs_page).is_file() for o in run.outcomes)
    # GE's connection is closed: the file opens again, even with another configuration (DuckDB refuses
    # a second configuration for a file this process still holds)
    duckdb.connect(str(landed.warehouse_path), config={"threads": 1}).close()


def test_every_row_rule_fails_on_the_row_broken_for_it_and_names_its_key(landed):
    broken: dict[tuple[str, str], str] = {}
    with duckdb.connect(str(landed.warehouse_path)) as con:
        breaker = Breaker(con, {})
        for suite in (suites_in(RAW_LAYER)[t.name] for t in SOURCE_TABLES):
            for rule in suite.rules:
                key = breaker.break_rule(source_table(suite.table), rule)
                if key is not None:
                    broken[(suite.table, rule.name)] = key
        # the loader read one row more than it landed for each batch: a key came twice from the source
        for t in SOURCE_TABLES:
            con.execute(
                f"update {BATCHES_TABLE} set rows_read = (select count(*) + 1 from landing.{t.name}) "
                "where table_name = ?",
                [t.name],
            )
    # every rule about rows has been broken; the rest are table rules, broken in the next test
    all_rules = {(t.name, rule.name) for t in SOURCE_TABLES for rule in suites_in(RAW_LAYER)[t.name].rules}
    assert {rule for table, rule in all_rules - set(broken)} == ROWS_FREE_RULES

    run = run_gate(landed)

    outcomes = {(o.suite.table, o.rule.name): o for o in run.outcomes}
    still_passing = [
        name for name, o in outcomes.items() if o.passed and name[1] not in ROWS_FREE_RULES - {"source_keys_unique"}
    ]
    assert not still_passing, still_passing
    with duckdb.connect(str(landed.warehouse_path), read_only=True) as con:
        found = failing_keys(con, run)
    # GE gives no usable SQL for the failing rows of compound-key uniqueness; every other rule names its rows
    without_rows = {name for name in broken if name not in found}
    assert without_rows == {(t.name, "key_unique") for t in SOURCE_TABLES if len(t.primary_key) > 1}
    for (table, rule), key in broken.items():
        outcome = outcomes[(table, rule)]
        assert outcome.failing_count >= 1, (table, rule)
        if (table, rule) in found:
            assert key in found[(table, rule)], (table, rule, key, sorted(found[(table, rule)])[:5])
            assert outcome.sample_keys, (table, rule)
    json.dumps([o.sample_keys for o in run.outcomes])  # Dagster shows them as JSON (dates in keys included)
    assert any(outcome.blocks for outcome in run.outcomes)
    assert outcomes[("opportunities", "source_keys_unique")].severity.value == "WARN"


def test_volume_and_freshness_fail_when_a_table_shrinks_and_the_data_is_old(pipeline):
    land_raw_again(pipeline, mode="full_refresh", keep_share=0.3)
    run = run_gate(pipeline, as_of=AS_OF + timedelta(days=30))
    failed = {(o.suite.table, o.rule.name) for o in run.outcomes if not o.passed}
    big_tables = [t.name for t in SOURCE_TABLES if t.name not in ("departments",)]
    assert {(t, "row_count_not_dropping") for t in big_tables} <= failed
    fresh_rules = {
        (s.table, r.name) for s in suites_in(RAW_LAYER).values() for r in s.rules if r.name == "updated_at_fresh"
    }
    assert fresh_rules and fresh_rules <= failed
    assert any(outcome.blocks for outcome in run.outcomes)  # volume is an ERROR; freshness only warns
