"""A small hand-made Salesforce org as a sync lands it (SQLite or Postgres), built from crm_salesforce's declaration:
the source of the extract's, gate 1's and the source check's tests on the Salesforce shape.

Every declared table, each with `rows` rows whose ids point at each other (opportunity i belongs to account i and
user i), 18-character ids with the object's key prefix (opportunities start with 006), stage names from the
opportunity_stage rows, currency codes from the currency_type rows, and `_fivetran_synced` one hour apart per row.
Independent of the simulator: these tests pin the extract and gate 1 to the declaration alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path

from crm_contract import Column, SourceTable
from crm_salesforce import SOURCE_TABLES
from crm_salesforce.source import KEY_PREFIXES
from tests.support.wukong_db import create_source_database, execute, insert_rows

# When the sync first wrote row 1 (UTC, as Fivetran writes); row i is synced i hours later.
FIRST_SYNCED = datetime(2026, 6, 1, 9, 0)
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CNY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "HKD")

_REFERENCES = {
    "parent_role_id": "user_role",
    "user_role_id": "user_role",
    "manager_id": "user",
    "owner_id": "user",
    "quota_owner_id": "user",
    "account_id": "account",
    "opportunity_id": "opportunity",
    "product_2_id": "product_2",
    "what_id": "opportunity",
    "who_id": "contact",
}


def sf_id(table: str, i: int) -> str:
    """Row i's 18-character id in `table` (3-character key prefix, 12 more, a 3-character checksum-like suffix)."""
    return f"{KEY_PREFIXES[table]}5g{i:010d}AAA"


def _stage(i: int) -> str:
    return f"Stage {i}"


# Values a sync writes that the mapping reads, by table and column: row i gets value(i).
_CODES: dict[str, dict[str, Callable[[int], object]]] = {
    "user_role": {"parent_role_id": lambda i: None if i == 1 else sf_id("user_role", 1)},
    "user": {"manager_id": lambda i: None if i == 1 else sf_id("user", 1), "is_active": lambda i: True},
    "opportunity_stage": {
        "api_name": _stage,
        "sort_order": lambda i: i,
        "default_probability": lambda i: 10 * (i % 10),
        "is_active": lambda i: True,
        "is_closed": lambda i: False,
        "is_won": lambda i: False,
    },
    "opportunity": {
        "stage_name": _stage,
        "currency_iso_code": lambda i: CURRENCIES[i % 3],
        "is_closed": lambda i: i % 4 in (1, 2),
        "is_won": lambda i: i % 4 == 1,
    },
    "opportunity_history": {"stage_name": _stage, "probability": lambda i: 10 * (i % 10)},
    "opportunity_line_item": {"discount": lambda i: None if i % 2 else 5, "quantity": lambda i: i},
    "product_2": {"is_active": lambda i: True},
    "task": {"task_subtype": lambda i: "Call"},
    "event": {"event_subtype": lambda i: "Event"},
    "dated_conversion_rate": {
        "iso_code": lambda i: CURRENCIES[(i - 1) % len(CURRENCIES)],
        "conversion_rate": lambda i: 1 if i == 1 else 1 + i / 10,
        "next_start_date": lambda i: date(9999, 12, 31),
    },
    "currency_type": {
        "iso_code": lambda i: CURRENCIES[(i - 1) % len(CURRENCIES)],
        "conversion_rate": lambda i: 1 if i == 1 else 1 + i / 10,
        "is_corporate": lambda i: i == 1,
        "is_active": lambda i: True,
    },
    "forecasting_quota": {"currency_iso_code": lambda i: "USD", "start_date": lambda i: date(2026, i % 12 + 1, 1)},
}


def salesforce_rows(rows: int = 12) -> dict[str, list[dict[str, object]]]:
    """`rows` rows for every declared table, consistent with each other; none deleted."""
    return {table.name: [_row(table, i) for i in range(1, rows + 1)] for table in SOURCE_TABLES}


def _row(table: SourceTable, i: int) -> dict[str, object]:
    synced = FIRST_SYNCED + timedelta(hours=i)
    row = {column.name: _value(table, column, i, synced) for column in table.columns}
    row.update({name: value(i) for name, value in _CODES.get(table.name, {}).items()})
    return row


def _value(table: SourceTable, column: Column, i: int, synced: datetime) -> object:
    if column.name == "id":
        return sf_id(table.name, i)
    if column.name in _REFERENCES:
        return sf_id(_REFERENCES[column.name], i)
    if column.type == "boolean":
        return False  # is_deleted, _fivetran_deleted, and flags _CODES does not set
    if column.type in ("money", "rate"):
        return 100 * i + 0.5
    if column.type == "integer":
        return i
    if column.type == "timestamp":
        return synced - timedelta(days=1) if column.name != "_fivetran_synced" else synced
    if column.type == "date":
        return date(2026, 6, 1) + timedelta(days=i)
    return f"{column.name}-{i}"


def create_salesforce_database(
    target: Path | str,
    rows: Mapping[str, Iterable[Mapping[str, object]]] | None = None,
    *,
    leave_out: Mapping[str, tuple[str, ...] | None] | None = None,
) -> str:
    """Write a synced Salesforce schema (salesforce_rows() unless `rows` is given) to a SQLite file at `target`, or
    into the database of the SQLAlchemy URL `target` (Postgres; its search_path may name the sync's schema); its URL.

    leave_out: table → the columns to leave out of it, or None to leave the table out altogether.
    """
    return create_source_database(
        target, SOURCE_TABLES, salesforce_rows() if rows is None else rows, leave_out=leave_out
    )


__all__ = ["FIRST_SYNCED", "create_salesforce_database", "execute", "insert_rows", "salesforce_rows", "sf_id"]
