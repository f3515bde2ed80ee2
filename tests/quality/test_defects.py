"""Every kind of dirty data the simulator injects, through the whole crm_elt job (issue 3, part 4).

A defect that makes the marts wrong stops the run at gate 1: nothing is merged, no watermark moves, the
published file keeps its bytes, and the same delta is read again once the source is fixed. A WARN-level
defect is published, its rows listed in raw._quarantine. The rest of the simulator's kinds are ordinary
life in a CRM and go through.
"""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

import simulator
from crm_contract import SOURCE_TABLES
from orchestration.extract import landing_key, raw_key
from orchestration.names import FULL_REFRESH_TAG
from tests.quality.conftest import Pipeline, failure_messages, file_digest, raw_fingerprint

# defect → (table, the gate-1 rule that must stop the run)
STOPPED_AT_GATE_1 = {
    "null_foreign_keys": ("opportunities", "customer_id_resolves"),
    "orphan_foreign_keys": ("opportunities", "customer_id_resolves"),
    "negative_amounts": ("opportunities", "amount_not_negative"),
    "unknown_stages": ("opportunities", "stage_in_catalogue"),
    "closed_before_created": ("opportunities", "closed_at_not_before_created_at"),
}
EXTRACT_AND_GATE_1 = [*(landing_key(t.name) for t in SOURCE_TABLES), *(raw_key(t.name) for t in SOURCE_TABLES)]


def check_evaluation(result: dg.ExecuteInProcessResult, table: str, rule: str) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.asset_key == landing_key(table) and e.check_name == rule
    ]
    return evaluation


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def fix_source(pipeline: Pipeline, clean: Pipeline) -> None:
    """The CRM's owners correct the data: here, the source as it was before the defect."""
    shutil.copy(clean.data_dir / "crm.sqlite", pipeline.data_dir / "crm.sqlite")


def assert_nothing_moved(pipeline: Pipeline, published: str, raw: dict, result: dg.ExecuteInProcessResult) -> None:
    assert not result.success
    assert not {key for key in materialized(result) if not key.startswith("landing/")}, materialized(result)
    assert file_digest(pipeline.published_path) == published
    assert raw_fingerprint(pipeline) == raw


@pytest.mark.parametrize("defect", sorted(STOPPED_AT_GATE_1))
def test_a_defect_stops_the_run_at_gate_1_and_the_fixed_source_loads_next_time(defect, pipeline, clean_pipeline):
    table, rule = STOPPED_AT_GATE_1[defect]
    published, raw = file_digest(pipeline.published_path), raw_fingerprint(pipeline)
    injected = simulator.inject(pipeline.source_url, defect, table=table, count=3)

    result = pipeline.run()

    assert_nothing_moved(pipeline, published, raw, result)
    message = failure_messages(result)["gate_1"]
    assert f"raw.{table}: rule {rule} (ERROR)" in message
    assert all(str(key[0]) in message for key in injected.keys), (injected.keys, message)
    evaluation = check_evaluation(result, table, rule)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failing_count"].value == 3
    assert evaluation.metadata["data_docs"].value.endswith(".html")

    fix_source(pipeline, clean_pipeline)
    again = pipeline.run(asset_selection=EXTRACT_AND_GATE_1)
    assert again.success, failure_messages(again)
    assert check_evaluation(again, table, rule).passed
    assert raw_key(table).to_user_string() in materialized(again)


def test_after_the_source_is_fixed_the_next_crm_elt_run_publishes_again(pipeline, clean_pipeline):
    published = file_digest(pipeline.published_path)
    simulator.inject(pipeline.source_url, "orphan_foreign_keys", table="payments", count=2)
    assert not pipeline.run().success
    assert file_digest(pipeline.published_path) == published

    fix_source(pipeline, clean_pipeline)
    result = pipeline.run()
    assert result.success, failure_messages(result)
    assert "published/crm_warehouse" in materialized(result)


def test_a_dropped_column_stops_the_run_at_extract_before_anything_is_merged(pipeline, clean_pipeline):
    published, raw = file_digest(pipeline.published_path), raw_fingerprint(pipeline)
    simulator.inject(pipeline.source_url, "dropped_column", table="contracts", column="signed_date")

    result = pipeline.run()

    assert_nothing_moved(pipeline, published, raw, result)
    message = failure_messages(result)["landing__contracts"]
    assert "contracts" in message and "signed_date" in message
    fix_source(pipeline, clean_pipeline)
    assert pipeline.run(asset_selection=EXTRACT_AND_GATE_1).success


def test_an_emptied_table_stops_a_full_refresh_at_the_volume_rule(pipeline, clean_pipeline):
    published, raw = file_digest(pipeline.published_path), raw_fingerprint(pipeline)
    simulator.inject(pipeline.source_url, "empty_table", table="satisfaction_surveys")

    result = pipeline.run(tags={FULL_REFRESH_TAG: "true"})

    assert_nothing_moved(pipeline, published, raw, result)
    assert "raw.satisfaction_surveys: rule row_count_not_dropping (ERROR)" in failure_messages(result)["gate_1"]
    fix_source(pipeline, clean_pipeline)
    assert pipeline.run(tags={FULL_REFRESH_TAG: "true"}, asset_selection=EXTRACT_AND_GATE_1).success


def test_warn_level_defects_are_published_with_their_rows_in_quarantine(pipeline):
    published = file_digest(pipeline.published_path)
    absurd = simulator.inject(pipeline.source_url, "absurd_amounts", table="opportunities", count=3)
    simulator.inject(pipeline.source_url, "duplicate_rows", table="payments", count=2)

    # a full refresh: copies of old rows are not in an incremental delta, which reads changed rows only
    result = pipeline.run(tags={FULL_REFRESH_TAG: "true"})

    assert result.success, failure_messages(result)
    assert file_digest(pipeline.published_path) != published
    ceiling = check_evaluation(result, "opportunities", "amount_under_ceiling")
    assert not ceiling.passed and ceiling.severity == dg.AssetCheckSeverity.WARN
    assert ceiling.metadata["quarantined_rows"].value == 3
    duplicates = check_evaluation(result, "payments", "source_keys_unique")
    assert not duplicates.passed and duplicates.severity == dg.AssetCheckSeverity.WARN
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as con:
        quarantined = con.execute(
            "select primary_key, rule, severity from raw._quarantine where table_name = 'opportunities' order by all"
        ).fetchall()
        kept = con.execute("select count(*) from raw.opportunities where amount > 1e11").fetchone()[0]
    assert quarantined == sorted(
        (f"{{'opportunity_id': {key[0]}}}", "amount_under_ceiling", "WARN") for key in absurd.keys
    )
    assert kept == 3  # not dropped: the rows stay in raw


def test_the_ordinary_kinds_of_change_go_through_every_gate(pipeline):
    for defect, table in [
        ("late_arriving_updates", "opportunities"),
        ("soft_deletes", "opportunities"),
        ("hard_deletes", "activities"),
        ("new_column", "contracts"),
    ]:
        simulator.inject(pipeline.source_url, defect, table=table, count=3)

    result = pipeline.run()

    assert result.success, failure_messages(result)
    assert [
        e.check_name
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ] == []
    assert "published/crm_warehouse" in materialized(result)
