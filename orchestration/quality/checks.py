"""Gate 1 and gate 2 as Dagster asset checks: one blocking check per rule, each gate evaluated in one step.

Gate 1's checks sit on the `landing/<table>` assets, so an ERROR stops the merge into raw (and everything
after it) in the same run; gate 2's sit on the published `marts/<model>` assets, so an ERROR stops the
publish step and the previous published file stays. One step per gate keeps GE's start-up cost (import,
context, Data Docs index) to once per gate.
"""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import dagster as dg

from crm_contract import SOURCE_TABLES, SourceTable
from orchestration.crash_points import crash_point
from orchestration.extract import landing_key
from orchestration.names import MARTS_SCHEMA, WAREHOUSE_POOL
from orchestration.quality.gate_config import Severity
from orchestration.quality.gates import GateRun, run_gate_1, run_gate_2
from orchestration.quality.resource import QualityResource
from orchestration.quality.suites import RAW_LAYER, Suite, suites_in
from orchestration.quality.validation import RuleOutcome
from orchestration.resources import WarehouseResource
from orchestration.transform import published_model_keys


class QualityGateError(Exception):
    """An ERROR rule failed: the message names the table, the rule, example keys and the Data Docs page."""


def build_gate_1_checks(tables: Sequence[SourceTable] = SOURCE_TABLES) -> list[dg.AssetChecksDefinition]:
    """Gate 1 on the landed batches of `tables` (the chosen source system's): every table has a suite in
    expectations/raw/, named as the table, so an error names the CRM's own table."""
    every_suite = suites_in(RAW_LAYER)
    lacking = [table.name for table in tables if table.name not in every_suite]
    if lacking:
        raise ValueError(f"gate 1 has no suite for raw table(s) {lacking}: add expectations/raw/<table>.yml")
    suites = {table.name: every_suite[table.name] for table in tables}

    @dg.multi_asset_check(
        name="gate_1",
        specs=_specs(suites.values(), lambda suite: landing_key(suite.table)),
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Gate 1: this run's landed batches, before they are merged into raw.",
    )
    def gate_1(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, quality: QualityResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {key.asset_key.path[-1] for key in context.selected_asset_check_keys}
        checked = [table for table in tables if table.name in selected]
        run = run_gate_1(
            warehouse,
            docs_dir=Path(quality.docs_dir),
            docs_keep_days=quality.docs_keep_days,
            gates=quality.gates(),
            tables=checked,
            as_of=quality.as_of(),
            reporting_currency=quality.reporting_currency,
            source_timezone=quality.source_timezone or None,
            source_currency=quality.source_currency or None,
            load_id=context.run.run_id,
        )
        crash_point("gate_1")
        yield from _report(context, run, "gate 1", lambda suite: landing_key(suite.table))

    return [gate_1]


def build_gate_2_checks() -> list[dg.AssetChecksDefinition]:
    suites = suites_in(MARTS_SCHEMA)
    keys = {key.path[-1]: key for key in published_model_keys() if key.path[-1] in suites}

    @dg.multi_asset_check(
        name="gate_2",
        specs=_specs([suites[name] for name in keys], lambda suite: keys[suite.table]),
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Gate 2: the published marts, after dbt and before they are published.",
    )
    def gate_2(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, quality: QualityResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {check.asset_key for check in context.selected_asset_check_keys}
        run = run_gate_2(
            warehouse,
            docs_dir=Path(quality.docs_dir),
            docs_keep_days=quality.docs_keep_days,
            gates=quality.gates(),
            models=[(key.path[0], key.path[-1]) for key in keys.values() if key in selected],
            run_name=context.run.run_id,
        )
        crash_point("gate_2")
        yield from _report(context, run, "gate 2", lambda suite: keys[suite.table])

    return [gate_2]


def _specs(suites: list[Suite], asset_key: Callable[[Suite], dg.AssetKey]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(name=rule.name, asset=asset_key(suite), blocking=True, description=rule.description)
        for suite in suites
        for rule in suite.rules
    ]


def _report(
    context: dg.AssetCheckExecutionContext, run: GateRun, gate: str, asset_key: Callable[[Suite], dg.AssetKey]
) -> Iterator[dg.AssetCheckResult]:
    failed = [outcome for outcome in run.outcomes if not outcome.passed]
    quarantined = sum(run.quarantined.values())
    context.log.info(
        f"{gate}: {len(run.outcomes)} rules in {run.seconds}s, {len(failed)} failed, {quarantined} rows quarantined"
    )
    selected = context.selected_asset_check_keys  # a subset of one table's rules validates the whole table
    for outcome in run.outcomes:
        if dg.AssetCheckKey(asset_key(outcome.suite), outcome.rule.name) in selected:
            yield _result(
                outcome, asset_key(outcome.suite), run.quarantined.get((outcome.suite.table, outcome.rule.name))
            )
    blocking = [outcome for outcome in failed if outcome.blocks]
    for outcome in failed:
        (context.log.error if outcome.blocks else context.log.warning)(_summary(outcome))
    if blocking:
        raise QualityGateError(f"{gate} stopped the run: " + "; ".join(_summary(o) for o in blocking))


def _result(outcome: RuleOutcome, key: dg.AssetKey, quarantined: int | None) -> dg.AssetCheckResult:
    metadata: dict[str, object] = {
        "expectation": f"{outcome.rule.type}({', '.join(f'{k}={v}' for k, v in outcome.rule.kwargs.items())})",
        "severity": outcome.severity.value,
    }
    if outcome.failing_count is not None:
        metadata["failing_count"] = outcome.failing_count
    if outcome.observed_value is not None:
        metadata["observed_value"] = outcome.observed_value
    if outcome.sample_keys:
        metadata["sample_failing_keys"] = dg.MetadataValue.json(outcome.sample_keys)
    if quarantined is not None:
        metadata["quarantined_rows"] = quarantined
    if outcome.error:
        metadata["error"] = outcome.error
    if outcome.docs_page:
        metadata["data_docs"] = dg.MetadataValue.path(outcome.docs_page)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=outcome.rule.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.severity is Severity.ERROR else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=None if outcome.passed else _summary(outcome),
    )


def _summary(outcome: RuleOutcome) -> str:
    """One line an operator can act on: table, rule, how many rows, which keys, where to look."""
    what = f"{outcome.suite.name}: rule {outcome.rule.name} ({outcome.severity.value})"
    if outcome.error:
        found = f"could not be evaluated: {outcome.error.splitlines()[0]}"
    elif outcome.failing_count is not None:
        keys = ", ".join(str(key) for key in outcome.sample_keys)
        found = f"{outcome.failing_count} row(s) break it" + (f", e.g. {keys}" if keys else "")
    else:
        found = f"failed, observed {outcome.observed_value}"
    return f"{what} {found}: {outcome.rule.description} Data Docs: {outcome.docs_page}"


gate_1_checks = build_gate_1_checks()
gate_2_checks = build_gate_2_checks()
