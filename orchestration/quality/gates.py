"""The two gates as plain functions (Dagster-free): what each validates, and what follows from the outcomes.

Gate 1 validates each table's landed batch, and the table as the merge would leave it, before anything is
merged. Gate 2 validates the published marts after dbt, before publishing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from crm_contract import SourceTable
from orchestration.names import MARTS_SCHEMA
from orchestration.quality.gate_config import GateConfig
from orchestration.quality.parameters import (
    WarehouseFacts,
    needed_currencies,
    raw_parameters,
    read_stage_catalogue,
    read_warehouse_facts,
)
from orchestration.quality.quarantine import quarantine
from orchestration.quality.relations import after_merge_sql, expand_after_merge, in_schemas, landing_sql
from orchestration.quality.suites import RAW_LAYER, Scope, Suite, suites_in
from orchestration.quality.validation import GeConnection, RuleOutcome, Validation, run_validations
from orchestration.resources import WarehouseResource
from orchestration.warehouse_sql import SqlSession

SAMPLE_KEYS = 10


@dataclass(frozen=True)
class GateRun:
    outcomes: list[RuleOutcome]
    quarantined: dict[tuple[str, str], int]  # rows listed in raw._quarantine this run, by (table, rule)
    seconds: float


def run_gate_1(
    warehouse: WarehouseResource,
    *,
    docs_dir: Path,
    docs_keep_days: int,
    gates: GateConfig,
    tables: list[SourceTable],
    as_of: date,
    reporting_currency: str,
    load_id: str,
    source_timezone: str | None = None,
    source_currency: str | None = None,
) -> GateRun:
    """Validate the landed batches of `tables`; quarantine WARN rows unless an ERROR stops the run.

    source_timezone: the zone of the source's local times (悟空CRM), in which its dates are judged against the
    as-of date; None for a source writing UTC. source_currency: the one currency of a source whose amounts carry
    none (悟空CRM: CRM_SOURCE_CURRENCY); None for the contract. load_id: this run's, which landed the batches whose
    rows read from the source the loader kept with them (source_keys_unique compares the landed rows with it).
    """
    started = time.perf_counter()
    suites = suites_in(RAW_LAYER)
    with warehouse.session() as session:
        facts = read_warehouse_facts(session, tables, reporting_currency, load_id=load_id)
    catalogue = read_stage_catalogue()
    now = datetime.now(UTC).replace(tzinfo=None)
    validations = []
    for table in tables:
        suite = suites[table.name]
        parameters = raw_parameters(
            table.name,
            gates.thresholds_for(suite.name),
            facts,
            catalogue,
            as_of=as_of,
            now=now,
            source_timezone=source_timezone,
            needed_currencies=needed_currencies(source_currency, reporting_currency),
        )
        if table.name in facts.full_refresh_tables:
            # The batch replaces the table, so both scopes read the same rows: one validation, not two (GE
            # pays a fixed cost per validation; docs/benchmarks.md has the figure).
            groups = [(("batch", "table"), suite.name, landing_sql(table))]
        else:
            groups = [
                (("batch",), suite.name, landing_sql(table)),
                (("table",), f"{suite.name}.after_merge", after_merge_sql(table, full_refresh=False)),
            ]
        for scopes, name, query in groups:
            validations.append(_validation(suite, scopes, name, query, parameters, gates, facts))
    outcomes = run_validations(
        ge_connection(warehouse),
        docs_dir,
        [v for v in validations if v.rules],
        run_name=load_id,
        docs_keep_days=docs_keep_days,
    )
    with warehouse.session() as session:
        outcomes = _with_sample_keys(session, outcomes)
        quarantined = {}
        if not any(outcome.blocks for outcome in outcomes):
            quarantined = quarantine(
                session,
                outcomes,
                full_refresh_tables=facts.full_refresh_tables,
                load_id=load_id,
                detected_at=datetime.now(UTC).replace(tzinfo=None),
            )
    return GateRun(outcomes, quarantined, round(time.perf_counter() - started, 3))


def run_gate_2(
    warehouse: WarehouseResource,
    *,
    docs_dir: Path,
    docs_keep_days: int,
    gates: GateConfig,
    models: list[tuple[str, str]],
    run_name: str,
) -> GateRun:
    """Validate the published models, given as (schema, name) pairs that have a suite.

    They are read where dbt built them (warehouse.marts_schema: `marts_next` on Postgres, before publishing;
    views over Spark's tables on Spark).
    """
    started = time.perf_counter()
    suites = suites_in(MARTS_SCHEMA)
    schemas = warehouse.relation_schemas()
    validations = []
    for schema, name in models:
        validation = _validation(
            suites[name],
            ("batch",),
            suites[name].name,
            in_schemas(f"select * from {schema}.{name}", schemas),
            {},
            gates,
            facts=None,
        )
        validations.append(
            replace(validation, rule_sql={rule: in_schemas(sql, schemas) for rule, sql in validation.rule_sql.items()})
        )
    outcomes = run_validations(
        ge_connection(warehouse), docs_dir, validations, run_name=run_name, docs_keep_days=docs_keep_days
    )
    with warehouse.session() as session:
        outcomes = _with_sample_keys(session, outcomes)
    return GateRun(outcomes, {}, round(time.perf_counter() - started, 3))


def _validation(
    suite: Suite,
    scopes: tuple[Scope, ...],
    name: str,
    query: str,
    parameters: dict[str, object],
    config: GateConfig,
    facts: WarehouseFacts | None,
) -> Validation:
    rules = suite.rules_in(*scopes)
    full_refresh = facts.full_refresh_tables if facts is not None else frozenset()
    return Validation(
        suite=suite,
        rules=rules,
        name=name,
        query=query,
        parameters=parameters,
        severities={rule.name: config.severity_of(suite.name, rule.name) for rule in rules},
        rule_sql={
            rule.name: expand_after_merge(rule.kwargs["unexpected_rows_query"], full_refresh)
            for rule in rules
            if "unexpected_rows_query" in rule.kwargs
        },
    )


def ge_connection(warehouse: WarehouseResource) -> GeConnection:
    """GE's way into the target's warehouse: the DuckDB file with the warehouse's settings, or the Postgres server."""
    return warehouse.for_target().ge_connection()


def _with_sample_keys(session: SqlSession, outcomes: list[RuleOutcome]) -> list[RuleOutcome]:
    """A few keys of the failing rows of each failed rule, for the operator to look at."""
    sampled = []
    for outcome in outcomes:
        if not outcome.passed and outcome.row_query:
            returned = session.columns(outcome.row_query)
            # A rule about a group of rows (a month in a mart) returns only the key columns it knows.
            names = [k for k in outcome.suite.key if k in returned]
            columns = ", ".join(f'"{k}"' for k in names)
            rows = session.rows(
                f"SELECT DISTINCT {columns} FROM ({outcome.row_query}) AS failing "
                f"ORDER BY {columns} LIMIT {SAMPLE_KEYS}"
            )
            # Shown as JSON metadata: dates (sales_targets.target_month, fx_rates.rate_date) as text.
            samples = [
                {
                    name: value if isinstance(value, (int, str)) or value is None else str(value)
                    for name, value in zip(names, row)
                }
                for row in rows
            ]
            outcome = replace(outcome, sample_keys=samples)
        sampled.append(outcome)
    return sampled
