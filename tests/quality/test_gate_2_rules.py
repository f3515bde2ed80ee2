"""Gate 2's rules: each passes on the marts of a clean run and fails on a mart broken for it; an ERROR keeps
the previous published file."""

from __future__ import annotations

import duckdb

import simulator
from orchestration.quality.gates import GateRun, run_gate_2
from orchestration.quality.suites import MARTS_LAYER, Rule, Suite, suites_in
from orchestration.resources import WarehouseResource
from orchestration.transform import published_model_keys
from tests.quality.conftest import Pipeline, failure_messages, file_digest
from tests.support.pipeline import shipped_gates


def run_gate(pipeline: Pipeline) -> GateRun:
    models = [(key.path[0], key.path[-1]) for key in published_model_keys()]
    return run_gate_2(
        WarehouseResource(path=str(pipeline.warehouse_path), published_path=str(pipeline.published_path)),
        docs_dir=pipeline.docs_dir,
        docs_keep_days=30,
        gates=shipped_gates(),
        models=models,
        run_name="test-run",
    )


def break_rule(con: duckdb.DuckDBPyConnection, suite: Suite, rule: Rule) -> None:
    """Change one row of the mart so that `rule` fails."""
    mart, column = f"marts.{suite.table}", rule.kwargs.get("column")
    if rule.type == "expect_column_values_to_not_be_null":
        con.execute(f"update {mart} set {column} = null where rowid = (select min(rowid) from {mart})")
    elif rule.type == "expect_column_values_to_be_between":
        value = rule.kwargs["max_value"] + 0.5 if "max_value" in rule.kwargs else rule.kwargs["min_value"] - 1
        con.execute(
            f"update {mart} set {column} = {value} where rowid = (select min(rowid) from {mart} where {column} is not null)"
        )
    elif rule.type == "expect_column_values_to_be_in_set":
        con.execute(f"update {mart} set {column} = 'bogus' where rowid = (select min(rowid) from {mart})")
    elif rule.name == "weighted_amount_within_open_amount":
        con.execute(
            f"update {mart} set weighted_amount = open_amount + 1 where rowid = (select max(rowid) from {mart})"
        )
    elif rule.name == "as_of_day_reconciles_with_opportunity_kpis":  # the newest day's total no longer adds up
        con.execute(
            f"update {mart} set open_amount = open_amount + 1000 where date_day = (select max(date_day) from {mart})"
        )
    else:  # a rule in SQL: the last row's first count or amount no longer adds up
        measure = {
            "funnel_never_increases": "opportunities_reached",
            "first_stage_reconciles_with_opportunities": "opportunities_reached",
            "receivable_is_due_minus_paid": "receivable_amount",
        }.get(rule.name) or rule.name.split("_reconcile")[0]
        row = (
            "stage_order = (select min(stage_order) from marts.mart_sales_funnel)"
            if rule.name == "first_stage_reconciles_with_opportunities"
            else f"rowid = (select max(rowid) from {mart})"
        )
        con.execute(f"update {mart} set {measure} = {measure} + 1000 where {row}")


def test_every_mart_rule_passes_on_a_clean_run_and_fails_when_its_mart_is_broken(pipeline):
    clean = run_gate(pipeline)
    assert [f"{o.suite.name}.{o.rule.name}" for o in clean.outcomes if not o.passed] == []

    rules = [(suite, rule) for suite in suites_in(MARTS_LAYER).values() for rule in suite.rules]
    with duckdb.connect(str(pipeline.warehouse_path)) as con:
        for suite, rule in rules:
            break_rule(con, suite, rule)
    dirty = run_gate(pipeline)

    still_passing = [f"{o.suite.name}.{o.rule.name}" for o in dirty.outcomes if o.passed]
    assert still_passing == []
    assert [o.rule.name for o in dirty.outcomes if o.failing_count and not o.sample_keys] == []
    assert dirty.stops_the_run


def test_a_mart_that_fails_an_error_rule_keeps_the_previous_published_file(pipeline, tmp_path):
    """A user let closed-before-created opportunities through gate 1 (WARN); gate 2 still guards the file."""
    gates = tmp_path / "gates.yml"
    gates.write_text(
        shipped_gates()
        .path.read_text()
        .replace(
            "suites:\n", "suites:\n  raw.opportunities:\n    severity: {closed_at_not_before_created_at: WARN}\n", 1
        )
    )
    published = file_digest(pipeline.published_path)
    simulator.inject(pipeline.source_url, "closed_before_created", table="opportunities", count=2)

    result = pipeline.run(environment={"CRM_QUALITY_GATES": str(gates)})

    assert not result.success
    message = failure_messages(result)["gate_2"]
    assert "marts.fct_opportunities: rule days_to_close_not_negative (ERROR)" in message
    assert "published/crm_warehouse" not in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    }
    assert file_digest(pipeline.published_path) == published
