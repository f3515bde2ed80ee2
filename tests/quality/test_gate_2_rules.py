"""Gate 2's rules: each passes on the marts of a clean run and fails on a mart broken for it; an ERROR keeps
the previous published file. Gate 2 holds the reconciliations (a mart against another model, or a mart's rows
against each other); dbt's tests hold the column rules, and a failing one keeps the published file too."""

from __future__ import annotations

import duckdb

import simulator
from orchestration.names import MARTS_SCHEMA
from orchestration.quality.gates import GateRun, run_gate_2
from orchestration.quality.suites import Rule, Suite, suites_in
from orchestration.resources import WarehouseResource
from orchestration.transform import published_model_keys
from tests.quality.conftest import Pipeline, failure_messages, file_digest
from tests.support.pipeline import shipped_gates


def run_gate(pipeline: Pipeline) -> GateRun:
    suites = suites_in(MARTS_SCHEMA)
    models = [(key.path[0], key.path[-1]) for key in published_model_keys() if key.path[-1] in suites]
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
    mart = f"marts.{suite.table}"
    if rule.name == "weighted_amount_within_open_amount":  # still above after the next rule adds 1000 to the day
        con.execute(
            f"update {mart} set weighted_amount = open_amount + 5000 where rowid = (select max(rowid) from {mart})"
        )
    elif rule.name == "as_of_day_reconciles_with_opportunity_kpis":  # the newest day's total no longer adds up
        con.execute(
            f"update {mart} set open_amount = open_amount + 1000 where date_day = (select max(date_day) from {mart})"
        )
    else:  # the last row's first count or amount no longer adds up
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

    rules = [(suite, rule) for suite in suites_in(MARTS_SCHEMA).values() for rule in suite.rules]
    with duckdb.connect(str(pipeline.warehouse_path)) as con:
        for suite, rule in rules:
            break_rule(con, suite, rule)
    dirty = run_gate(pipeline)

    still_passing = [f"{o.suite.name}.{o.rule.name}" for o in dirty.outcomes if o.passed]
    assert still_passing == []
    assert [o.rule.name for o in dirty.outcomes if o.failing_count and not o.sample_keys] == []
    assert any(o.blocks for o in dirty.outcomes)


def test_a_mart_that_fails_a_gate_2_rule_keeps_the_previous_published_file(pipeline, monkeypatch):
    """dbt built a funnel that grows from contacted to qualified (as a bug in its SQL would): gate 2 stops the
    publish step, and the published file stays as it was."""
    import orchestration.quality.checks as checks

    def run_gate_2_on_a_broken_funnel(warehouse, **kwargs) -> GateRun:
        with duckdb.connect(str(pipeline.warehouse_path)) as con:
            con.execute(
                "update marts.mart_sales_funnel set opportunities_reached = opportunities_reached + 1000 "
                "where stage = 'qualified'"
            )
        return run_gate_2(warehouse, **kwargs)

    monkeypatch.setattr(checks, "run_gate_2", run_gate_2_on_a_broken_funnel)
    published = file_digest(pipeline.published_path)

    result = pipeline.run()

    assert not result.success
    assert "marts.mart_sales_funnel: rule funnel_never_increases (ERROR)" in failure_messages(result)["gate_2"]
    assert "published/crm_warehouse" not in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    }
    assert file_digest(pipeline.published_path) == published


def test_a_mart_that_breaks_a_dbt_column_rule_keeps_the_previous_published_file(pipeline, tmp_path):
    """A user let closed-before-created opportunities through gate 1 (WARN); dbt's test that days_to_close is not
    negative (a column rule: dbt's, not gate 2's) fails, the build stops there and nothing is published."""
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
    failed_checks = {
        (e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations() if not e.passed
    }
    assert ("marts/fct_opportunities", "days_to_close_not_negative") in failed_checks
    assert "crm_dbt_models" in failure_messages(result)
    assert "published/crm_warehouse" not in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    }
    assert file_digest(pipeline.published_path) == published
