"""The suites in expectations/ cover what the issue asks of every raw table and every published mart."""

from __future__ import annotations

import pytest

from crm_contract import SOURCE_TABLES, source_table
from orchestration.names import MARTS_SCHEMA
from orchestration.quality.suites import RAW_LAYER, SuiteFileError, load_suite, suites_in
from simulator.schema import foreign_keys

EVENT_DATES = {
    "created_at",
    "closed_at",
    "changed_at",
    "occurred_at",
    "surveyed_at",
    "hired_at",
    "updated_at",
    "signed_date",
    "paid_date",
    "issued_date",
    "rate_date",
    "spend_month",
}


def rules(layer: str, table: str) -> dict[str, object]:
    return {rule.name: rule for rule in suites_in(layer)[table].rules}


def test_every_raw_table_has_a_suite_and_every_mart_suite_checks_a_published_model():
    from orchestration.source_system import SOURCE_SYSTEMS
    from orchestration.transform import published_model_keys

    assert set(suites_in(RAW_LAYER)) == {table.name for system in SOURCE_SYSTEMS.values() for table in system.tables}
    assert set(suites_in(MARTS_SCHEMA)) <= {key.path[-1] for key in published_model_keys()}


@pytest.mark.parametrize("table", [t.name for t in SOURCE_TABLES])
def test_a_raw_suite_checks_keys_references_amounts_dates_and_volume(table):
    contract, names = source_table(table), rules(RAW_LAYER, table)
    assert {f"{k}_not_null" for k in contract.primary_key} | {"key_unique", "row_count_not_dropping"} <= set(names)
    assert {f"{column}_resolves" for column in foreign_keys(contract)} <= set(names)
    money = [c.name for c in contract.columns if c.type == "money"]
    assert {f"{c}_not_negative" for c in money} | {f"{c}_under_ceiling" for c in money} <= set(names)
    assert {f"{c}_not_after_as_of" for c in contract.column_names if c in EVENT_DATES} <= set(names)
    if "currency" in contract.column_names and table != "fx_rates":
        assert "currency_known" in names
    assert names["row_count_not_dropping"].scope == "table"


def test_the_opportunity_rules_of_the_issue_are_there():
    names = rules(RAW_LAYER, "opportunities")
    assert {
        "stage_in_catalogue",
        "status_agrees_with_stage",
        "closed_at_agrees_with_status",
        "loss_reason_only_when_lost",
        "closed_at_not_before_created_at",
        "customer_id_resolves",
        "owner_user_id_resolves",
    } <= set(names)
    assert {"to_stage_in_catalogue", "opportunity_id_resolves"} <= set(rules(RAW_LAYER, "opportunity_stage_history"))
    assert "updated_at_fresh" in names and names["updated_at_fresh"].scope == "table"


def published_models() -> dict[str, tuple[set[str], list[tuple[str, str | None, dict]]]]:
    """Each published model's columns and dbt data tests at ERROR severity (test, column, arguments), from the
    manifest."""
    import json

    from orchestration.dbt_project import crm_dbt_project
    from orchestration.transform import published_model_keys

    manifest = json.loads(crm_dbt_project.manifest_path.read_text())
    published = {key.path[-1] for key in published_model_keys()}
    models: dict[str, tuple[set[str], list[tuple[str, str | None, dict]]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] in published:
            models[node["name"]] = (set(node["columns"]), [])
    for node in manifest["nodes"].values():
        model = node.get("attached_node", "").rsplit(".", 1)[-1]
        if node["resource_type"] == "test" and model in models and node["config"]["severity"].upper() == "ERROR":
            metadata = node["test_metadata"]
            models[model][1].append((metadata["name"], node.get("column_name"), metadata["kwargs"]))
    return models


# An overpaid installment (docs/operations.md, "Faults") puts the month's collection rate above 1: dbt warns.
RATES_THAT_MAY_EXCEED_1 = {("mart_collections_monthly", "collection_rate")}


def test_dbt_owns_the_column_rules_of_every_published_model():
    """Each published model has a key that is unique and not null, and every rate is a fraction, by dbt's tests."""
    for model, (columns, tests) in published_models().items():
        keys = [[column] for name, column, _ in tests if name == "unique"] + [
            kwargs["combination_of_columns"] for name, _, kwargs in tests if name == "unique_combination_of_columns"
        ]
        not_null = {column for name, column, _ in tests if name == "not_null"}
        if model == "mart_satisfaction_monthly":  # a survey may name no rep or no product
            not_null |= {"user_id", "product_id"}
        assert any(set(key) <= not_null for key in keys), model
        ranges = {kwargs["expression"] for name, _, kwargs in tests if name == "expression_is_true"}
        for column in columns:
            if (model, column) in RATES_THAT_MAY_EXCEED_1:
                assert f"{column} >= 0" in ranges, (model, column)  # and `<= 1` at WARN severity
            elif column.endswith("_rate") or column.startswith("share_of_"):
                assert f"{column} between 0 and 1" in ranges, (model, column)


def test_gate_2_holds_the_reconciliations_and_no_column_rule():
    for name, suite in suites_in(MARTS_SCHEMA).items():
        assert {rule.type for rule in suite.rules} == {"unexpected_rows_expectation"}, name
    assert {"funnel_never_increases", "first_stage_reconciles_with_opportunities"} <= set(
        rules(MARTS_SCHEMA, "mart_sales_funnel")
    )
    assert "won_opportunities_reconcile_with_fct_opportunities" in rules(MARTS_SCHEMA, "mart_opportunity_kpis_monthly")
    assert "contract_amount_reconciles_with_fct_contracts" in rules(MARTS_SCHEMA, "mart_rep_performance_monthly")


def test_every_suite_builds_into_great_expectations_objects():
    from orchestration.quality.gate_config import Severity
    from orchestration.quality.validation import Validation, _ge_suite

    for layer in (RAW_LAYER, MARTS_SCHEMA):
        for suite in suites_in(layer).values():
            validation = Validation(
                suite=suite,
                rules=suite.rules,
                name=suite.name,
                query="select 1",
                parameters={},
                severities={r.name: Severity.ERROR for r in suite.rules},
                rule_sql={
                    r.name: r.kwargs["unexpected_rows_query"]
                    for r in suite.rules
                    if "unexpected_rows_query" in r.kwargs
                },
            )
            assert len(_ge_suite(validation).expectations) == len(suite.rules)


def test_a_suite_file_with_a_repeated_unnamed_or_undescribed_rule_is_refused(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    repeated = folder / "users.yml"
    repeated.write_text(
        "expectations:\n  - {rule: a, type: t, description: d}\n  - {rule: a, type: t, description: d}\n"
    )
    with pytest.raises(SuiteFileError, match="repeated"):
        load_suite(repeated)
    repeated.write_text("expectations:\n  - {rule: Not A Name, type: t, description: d}\n")
    with pytest.raises(SuiteFileError, match="snake case"):
        load_suite(repeated)
    repeated.write_text("expectations:\n  - {rule: a, type: t}\n")
    with pytest.raises(SuiteFileError, match="description"):
        load_suite(repeated)
