"""Run suites with Great Expectations' SQL route inside the warehouse, and turn GE's results into rule outcomes.

Why the SQL route: every expectation becomes a query the warehouse runs where the data is, so a gate reads
counts and at most a few sample keys, never a table, whatever its size (README, "Quality gates"). On Postgres
GE's SQL datasource works as it is. GE 1.24 has no DuckDB datasource; its generic SQL datasource works
through duckdb-engine once DuckDB is treated like SQLite, with one persisted connection (otherwise GE closes
the pooled connection before reading rows and every expectation fails with "list index out of range", GE
issues 10738 and 11579).

DuckDB allows one writer per file and, in one process, one configuration per file: GE's connection uses the
warehouse's configuration and is closed before `run_validations` returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration.quality.docs_retention import forget_validations_before
from orchestration.quality.gate_config import Severity
from orchestration.quality.suites import Rule, Suite

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.data_context import AbstractDataContext

DATASOURCE = "warehouse"
# The Data Docs index lists this many validations, newest first (older pages stay on disk).
INDEXED_VALIDATIONS = 500
_UNEXPECTED_ROWS = "unexpected_rows_expectation"
_JOIN = re.compile(r"\bjoin\b", re.IGNORECASE)


class _DuckDBDialect(str, Enum):
    """GE compares dialect names by `.value` and by equality with the engine's dialect name."""

    DUCKDB = "duckdb"


@dataclass(frozen=True)
class GeConnection:
    """How GE reaches the warehouse: a SQLAlchemy URL and the driver's connect arguments."""

    url: str
    connect_args: dict[str, object]

    @property
    def is_duckdb(self) -> bool:
        return self.url.startswith("duckdb:")


@dataclass(frozen=True)
class Validation:
    """Some rules of one suite, run against one relation: a table, or a query in parentheses."""

    suite: Suite
    rules: tuple[Rule, ...]
    name: str  # the GE suite and asset name, shown in Data Docs
    query: str  # what the rules read: `select * from landing.<table>`, the table after the merge, a mart
    parameters: dict[str, object]
    severities: dict[str, Severity]
    # A rule's own SQL (UnexpectedRowsExpectation) with its placeholders resolved, except {batch}.
    rule_sql: dict[str, str]

    @property
    def checked_rules(self) -> tuple[Rule, ...]:
        """The rules GE evaluates: those that apply with this run's parameters (Rule.applies_when)."""
        return tuple(rule for rule in self.rules if rule.applies(self.parameters))


@dataclass(frozen=True)
class RuleOutcome:
    suite: Suite
    rule: Rule
    severity: Severity
    passed: bool
    failing_count: int | None  # rows that break the rule; None for a rule about the whole table
    observed_value: str | None  # what a table-level rule saw (row count, newest updated_at, ...)
    sample_keys: list[dict[str, Any]]  # filled in by the gate, from row_query
    row_query: str | None  # SQL returning the key columns of every failing row, run in DuckDB
    error: str | None  # the rule could not be evaluated
    docs_page: str | None

    @property
    def blocks(self) -> bool:
        return not self.passed and self.severity is Severity.ERROR


def run_validations(
    connection: GeConnection,
    docs_dir: Path,
    validations: list[Validation],
    *,
    run_name: str,
    docs_keep_days: int,
) -> list[RuleOutcome]:
    """Validate, store the results and build their Data Docs pages under docs_dir; one outcome per rule."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    if connection.is_duckdb:
        _treat_duckdb_like_sqlite()
    context = _context(docs_dir)
    run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
    result_by_name: dict[str, ExpectationSuiteValidationResult] = {}
    checked = [replace(validation, rules=validation.checked_rules) for validation in validations]
    with _warehouse_datasource(context, connection) as datasource:
        for validation in (v for v in checked if v.rules):
            # A query asset, even for a plain table: a table asset reflects its columns through
            # duckdb-engine's emulated pg_catalog, which costs more than the rules themselves.
            asset = datasource.add_query_asset(validation.name, query=validation.query)
            suite = context.suites.add(_ge_suite(validation))
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=validation.name, data=asset.add_batch_definition_whole_table("all"), suite=suite
                )
            )
            result_by_name[validation.name] = definition.run(
                expectation_parameters=validation.parameters,
                # BASIC: counts, and the SQL that selects the failing rows' keys, which the gate runs
                # only for rules that failed (sample keys, quarantine). GE fetches no values itself: its sample
                # of failing values (partial_unexpected_list) is a query per rule even when none fail (the
                # largest cost of gate 1 at scale: docs/benchmarks.md); with 0, DuckDB answers it without reading
                # the table.
                result_format={
                    "result_format": "BASIC",
                    "partial_unexpected_count": 0,
                    "unexpected_index_column_names": list(validation.suite.key),
                    "return_unexpected_index_query": True,
                },
                run_id=run_id,
            )
    forget_validations_before(docs_dir, run_id.run_time.replace(tzinfo=None) - timedelta(days=docs_keep_days))
    pages = _build_docs(context, run_id)
    return [
        _outcome(validation, result, pages.get(validation.name))
        for validation in validations
        for result in (result_by_name[validation.name].results if validation.name in result_by_name else ())
    ] + [
        _not_applicable(validation, rule)
        for validation in validations
        for rule in validation.rules
        if rule not in validation.checked_rules
    ]


def _not_applicable(validation: Validation, rule: Rule) -> RuleOutcome:
    """A rule that does not apply this run passes without a query, and says why (the parameter that is false)."""
    return RuleOutcome(
        suite=validation.suite,
        rule=rule,
        severity=validation.severities[rule.name],
        passed=True,
        failing_count=None,
        observed_value=f"not checked: {rule.applies_when} is false this run",
        sample_keys=[],
        row_query=None,
        error=None,
        docs_page=None,
    )


def _treat_duckdb_like_sqlite() -> None:
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

    if _DuckDBDialect.DUCKDB not in engine_module._PERSISTED_CONNECTION_DIALECTS:
        engine_module._PERSISTED_CONNECTION_DIALECTS = (
            *engine_module._PERSISTED_CONNECTION_DIALECTS,
            _DuckDBDialect.DUCKDB,
        )


def _context(docs_dir: Path) -> AbstractDataContext:
    """Results are kept as JSON under docs_dir/store, so the Data Docs index spans runs; the suites are
    rebuilt from expectations/ every run, so the site shows validations only (each page lists its rules)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    def files(folder: str) -> dict[str, str]:
        return {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir / folder)}

    in_memory = {"class_name": "InMemoryStoreBackend"}
    return gx.get_context(
        project_config=DataContextConfig(
            stores={
                "expectations_store": {"class_name": "ExpectationsStore", "store_backend": in_memory},
                "validation_results_store": {
                    "class_name": "ValidationResultsStore",
                    "store_backend": files("store/results"),
                },
                "checkpoint_store": {"class_name": "CheckpointStore", "store_backend": in_memory},
                "validation_definition_store": {"class_name": "ValidationDefinitionStore", "store_backend": in_memory},
            },
            expectations_store_name="expectations_store",
            validation_results_store_name="validation_results_store",
            checkpoint_store_name="checkpoint_store",
            data_docs_sites={
                "quality": {
                    "class_name": "SiteBuilder",
                    "store_backend": files("."),
                    "site_section_builders": {"expectations": "None", "profiling": "None"},
                    "site_index_builder": {
                        "class_name": "DefaultSiteIndexBuilder",
                        "validation_results_limit": INDEXED_VALIDATIONS,
                    },
                }
            },
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
    )


@contextmanager
def _warehouse_datasource(context: AbstractDataContext, connection: GeConnection) -> Iterator[Any]:
    datasource = context.data_sources.add_sql(
        DATASOURCE,
        connection_string=connection.url,
        kwargs={"connect_args": connection.connect_args},
    )
    try:
        yield datasource
    finally:
        # Both engines hold the file (or a server connection) open: the datasource's (used to test the
        # connection and reflect tables) and the execution engine's persisted connection.
        execution_engine = datasource.get_execution_engine()
        if execution_engine._connection is not None:
            execution_engine._connection.close()
        execution_engine.engine.dispose()
        datasource.get_engine().dispose()


def _ge_suite(validation: Validation) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    severity = {Severity.ERROR: "critical", Severity.WARN: "warning"}
    expectations = []
    for rule in validation.rules:
        kwargs = dict(rule.kwargs)
        if rule.name in validation.rule_sql:
            kwargs["unexpected_rows_query"] = validation.rule_sql[rule.name]
        expectations.append(
            ExpectationConfiguration(
                type=rule.type,
                kwargs=kwargs,
                meta={"rule": rule.name},
                description=rule.description,
                severity=severity[validation.severities[rule.name]],
            ).to_domain_obj()
        )
    return gx.ExpectationSuite(name=validation.name, expectations=expectations)


def _build_docs(context: AbstractDataContext, run_id: Any) -> dict[str, str]:
    """Render this run's validation pages (and the index); the page path of each, by validation name."""
    keys = [key for key in context.validation_results_store.list_keys() if key.run_id == run_id]
    context.build_data_docs(site_names=["quality"], resource_identifiers=keys)
    pages = {}
    for key in keys:
        (site,) = context.get_docs_sites_urls(resource_identifier=key, site_name="quality")
        pages[key.expectation_suite_identifier.name] = site["site_url"].removeprefix("file://")
    return pages


def _outcome(validation: Validation, result: ExpectationValidationResult, docs_page: str | None) -> RuleOutcome:
    rule = validation.suite.rule(result.expectation_config.meta["rule"])
    details = result.result or {}
    error = _error_message(result.exception_info)
    if rule.type == _UNEXPECTED_ROWS:
        failing = details.get("observed_value")
        row_query = validation.rule_sql[rule.name].format(
            batch=batch_reference(validation.rule_sql[rule.name], validation.query)
        )
        observed = None
    else:
        failing = details.get("unexpected_count")
        row_query = _usable_query(details.get("unexpected_index_query"), validation.query)
        observed = None if "observed_value" not in details else str(details["observed_value"])
    return RuleOutcome(
        suite=validation.suite,
        rule=rule,
        severity=validation.severities[rule.name],
        passed=bool(result.success) and error is None,
        failing_count=failing,
        observed_value=observed,
        sample_keys=[],
        row_query=row_query if failing else None,
        error=error,
        docs_page=docs_page,
    )


def batch_reference(rule_sql: str, query: str) -> str:
    """What `{batch}` stands for in a rule's SQL, as GE substitutes it: a subquery that GE names itself, unless
    the rule has a join (then the rule names it: `{batch} as mart`). Postgres needs every subquery named."""
    return f"({query})" if _JOIN.search(rule_sql) else f"({query}) as batch"


def _error_message(exception_info: dict[str, Any] | None) -> str | None:
    """GE reports one exception per expectation, or one per metric the expectation needed."""
    if not exception_info:
        return None
    if "raised_exception" in exception_info:
        return exception_info["exception_message"] if exception_info["raised_exception"] else None
    messages = [info["exception_message"] for info in exception_info.values() if info.get("raised_exception")]
    return "; ".join(dict.fromkeys(messages)) or None


def _usable_query(query: str | None, asset_query: str) -> str | None:
    """GE's query for the failing rows, made runnable.

    GE 1.24 writes a query asset into it unparenthesized (`FROM select * from t WHERE ...`), which is put
    right here; a query GE left with unbound parameters (`$1`, compound uniqueness) is not usable.
    """
    if not query or "$1" in query:
        return None
    return query.replace(f"FROM {asset_query}", f"FROM ({asset_query}) AS batch", 1).rstrip().rstrip(";")
