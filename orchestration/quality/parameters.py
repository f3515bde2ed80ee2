"""The values behind the `$PARAMETER`s of the raw suites, computed for each run.

GE's suite parameters keep the suite files free of numbers that change: thresholds come from gates.yml,
the stage catalogue from the dbt seed a user edits, known currencies and previous row counts from the
warehouse, the cut-off dates from the as-of date.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from crm_contract import SourceTable, source_table
from crm_salesforce.source import ORG_CURRENCIES_TABLE
from orchestration.quality.gate_config import Thresholds
from orchestration.quality.relations import after_merge_sql, landing_sql
from orchestration.raw_schema import BATCHES_TABLE, LANDING_SCHEMA, RAW_SCHEMA
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.source_system import any_table
from orchestration.warehouse_sql import SqlSession, scalar
from orchestration.watermark_cap import in_source_clock

STAGE_CATALOGUE = DBT_PROJECT_DIR / "seeds" / "stage_catalogue.csv"


@dataclass(frozen=True)
class StageCatalogue:
    stages: list[str]
    status_stage_pairs: list[tuple[str, str]]  # (status, stage) combinations that agree


@dataclass(frozen=True)
class WarehouseFacts:
    """What gate 1 reads from the warehouse before validating: small aggregates, never rows."""

    full_refresh_tables: frozenset[str]  # tables whose pending batch replaces the whole table
    raw_row_counts: dict[str, int]  # before this run's merge
    landed_row_counts: dict[str, int]
    # Rows the loader read from the source for the batches this run landed (landing._batches.rows_read), by table
    rows_read: dict[str, int]
    known_currencies: list[str]
    reporting_currency: str = ""
    # A multi-currency Salesforce org's currencies (currency_type after this merge), converted with Salesforce's own
    # rates; empty for every other source, and for a single-currency org.
    org_currencies: tuple[str, ...] = ()


def read_stage_catalogue(path: Path = STAGE_CATALOGUE) -> StageCatalogue:
    with path.open(newline="", encoding="utf-8") as seed:
        rows = list(csv.DictReader(seed))
    status_of = {
        "open": lambda r: r["is_closed"] != "true",
        "won": lambda r: r["is_won"] == "true",
        "lost": lambda r: r["is_lost"] == "true",
    }
    return StageCatalogue(
        stages=[row["stage"] for row in rows],
        status_stage_pairs=[
            (status, row["stage"]) for status, applies in status_of.items() for row in rows if applies(row)
        ],
    )


def read_warehouse_facts(
    session: SqlSession, tables: list[SourceTable], reporting_currency: str, *, load_id: str
) -> WarehouseFacts:
    """load_id: this run's; rows_read is known for the batches it landed (a batch landed by an earlier run is
    checked against its own landed rows)."""
    full_refresh = frozenset(
        name
        for (name,) in session.rows(
            f"select table_name from {BATCHES_TABLE} where merged_at is null and mode = 'full_refresh'"
        )
    )
    count = lambda query: scalar(session, f"select count(*) from ({query}) as counted")  # noqa: E731
    fx_rates = after_merge_sql(source_table("fx_rates"), full_refresh="fx_rates" in full_refresh)
    currencies = {
        c for (c,) in session.rows(f"select distinct currency from ({fx_rates}) as fx_rates where currency is not null")
    }
    return WarehouseFacts(
        full_refresh_tables=full_refresh,
        raw_row_counts={t.name: count(f"select * from {RAW_SCHEMA}.{t.name}") for t in tables},
        landed_row_counts={t.name: count(landing_sql(t)) for t in tables},
        rows_read={
            name: rows_read
            for name, rows_read in session.rows(
                f"select table_name, rows_read from {BATCHES_TABLE} where load_id = ? and rows_read is not null",
                [load_id],
            )
        },
        known_currencies=sorted(currencies | {reporting_currency}),
        reporting_currency=reporting_currency,
        org_currencies=_org_currencies(session, full_refresh),
    )


def _org_currencies(session: SqlSession, full_refresh: frozenset[str]) -> tuple[str, ...]:
    """The iso codes in Salesforce's currency_type as this run's merge will leave it; () when raw has no such table
    (another source system) or it has no rows (a single-currency org)."""
    exists = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    if not scalar(session, exists, [RAW_SCHEMA, ORG_CURRENCIES_TABLE]):
        return ()
    table = any_table(ORG_CURRENCIES_TABLE)
    landed = scalar(session, exists, [LANDING_SCHEMA, ORG_CURRENCIES_TABLE])
    relation = (
        after_merge_sql(table, full_refresh=table.name in full_refresh)
        if landed
        else f"select * from {RAW_SCHEMA}.{table.name}"
    )
    rows = session.rows(
        f"select distinct iso_code from ({relation}) as org_currencies "
        "where iso_code is not null and not coalesce(_fivetran_deleted, false) order by iso_code"
    )
    return tuple(code for (code,) in rows)


def needed_currencies(source_currency: str | None, reporting_currency: str) -> list[str] | None:
    """The currencies fx_rates must hold rates for, whatever the rows say: the one currency of a source whose amounts
    carry none (CRM_SOURCE_CURRENCY: 悟空CRM's, a single-currency Salesforce org's; no row names it) when it is not the
    reporting currency. None for a source without one (the contract), whose rows name their own currencies
    (currency_known): whether it needs rates depends on them."""
    if not source_currency:
        return None
    return [source_currency] if source_currency != reporting_currency else []


def rates_to_drop(needed: list[str] | None, facts: WarehouseFacts) -> list[str] | None:
    """needed_currencies, except that a multi-currency Salesforce org converts with its own rates (CRM_SOURCE_CURRENCY
    is then unused: currency_type names the corporate currency)."""
    return [] if needed is not None and facts.org_currencies else needed


def fx_rates_needed(needed: list[str] | None, facts: WarehouseFacts) -> bool:
    """Whether the run converts with fx_rates' rows, so that their freshness matters: always with the contract (its
    rows name their currencies); with another source, when its one currency is not the reporting currency, or when a
    multi-currency Salesforce org lacks the reporting currency (rates_to_drop, docs/sources.md)."""
    if needed is None:
        return True
    if facts.org_currencies:
        return facts.reporting_currency not in facts.org_currencies
    return bool(needed)


def as_of_end(as_of: date) -> datetime:
    """The first instant after the as-of date: dates and timestamps must be before it."""
    return datetime.combine(as_of + timedelta(days=1), time())


def raw_parameters(
    table: str,
    thresholds: Thresholds,
    facts: WarehouseFacts,
    catalogue: StageCatalogue,
    *,
    as_of: date,
    now: datetime,
    source_timezone: str | None = None,
    needed_currencies: list[str] | None = None,
) -> dict[str, object]:
    """Every parameter a raw suite may name; GE ignores the ones a suite does not use.

    as_of_end_local is the as-of date's end in the source's own clock: 悟空CRM's local time (`source_timezone`,
    CRM_SOURCE_TIMEZONE), the same instant as as_of_end and the same bound as the watermark's cap.
    needed_currencies: the currencies fx_rates must have rates for whatever the rows say (needed_currencies()); None
    for a source whose rows name their currencies. fx_rates_needed: whether fx_rates' rows convert anything, so that
    their freshness is checked (a rule with `applies_when: fx_rates_needed`).
    """
    cut_off = as_of_end(as_of)
    to_drop = rates_to_drop(needed_currencies, facts)
    return {
        "amount_ceiling": thresholds.amount_ceiling,
        "as_of_end": cut_off,
        "as_of_end_local": in_source_clock(cut_off, source_timezone),
        "needed_currencies": to_drop or [],
        "fx_rates_needed": fx_rates_needed(to_drop, facts),
        "fresh_since": min(now, cut_off) - timedelta(hours=thresholds.freshness_hours),
        "min_row_count": math.ceil(facts.raw_row_counts[table] * (1 - thresholds.volume_drop_share)),
        "known_currencies": facts.known_currencies,
        "catalogue_stages": catalogue.stages,
        "status_stage_pairs": catalogue.status_stage_pairs,
        "source_rows_read": facts.rows_read.get(table, facts.landed_row_counts[table]),
    }
