"""Dirty data on purpose: each kind of mess domain.md §1 says real CRMs have, written into a database.

The quality gates are tested against these. Every injection names the table, the column and the
primary keys it touched. Rows an injection changes get an updated_at newer than any in their table
(as a real edit would), so an incremental extract sees them, except late_arriving_updates, whose
whole point is the opposite.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from crm_contract import SOURCE_TABLES, SourceTable, source_table
from crm_wukong import source_table as wukong_table
from simulator.catalogue import STAGES
from simulator.draws import stable_key
from simulator.salesforce import contract_id_of, salesforce_ids, simulated_table
from simulator.schema import NULLABLE_FOREIGN_KEYS, SQL_TYPES, STATE_TABLE, foreign_keys
from simulator.summary import InjectedDefect
from simulator.wukong import CLOSING_NOTE_IDS, INVALID_CONTENT, build_wukong_metadata, system_records, wukong_writer

_ABSURD_AMOUNT = Decimal("987654321012.34")
_UNKNOWN_STAGES = ("Closed Won (legacy)", "on_hold", "POC", "verbal_commit")
_NEW_COLUMN = "custom_field"
_LATE_EDITS: dict[str, Callable] = {  # in order of preference: a later date is the most harmless edit
    "date": lambda value: value + timedelta(days=14),
    "text": lambda value: f"{value} (edited)",
    "money": lambda value: (value * Decimal("1.1")).quantize(Decimal("0.01")),
}


@dataclass
class _Target:
    """The table an injection works on, and the means to pick and change its rows."""

    connection: Connection
    table: Table
    contract: SourceTable
    rng: np.random.Generator
    count: int
    column: str | None

    @property
    def key_columns(self) -> list:
        return [self.table.c[name] for name in self.contract.primary_key]

    def sample(self, where: ColumnElement[bool] | None = None) -> list[tuple]:
        """count distinct keys of rows matching where, at random but the same for the same seed and data."""
        keyed = select(*self.key_columns).distinct()
        if where is not None:
            keyed = keyed.where(where)
        total = self.connection.execute(select(func.count()).select_from(keyed.subquery())).scalar_one()
        offsets = np.sort(self.rng.choice(total, size=min(self.count, total), replace=False))
        ordered = keyed.order_by(*self.key_columns)
        return [tuple(self.connection.execute(ordered.limit(1).offset(int(o))).one()) for o in offsets]

    def matches(self, key: tuple) -> ColumnElement[bool]:
        return and_(*(column == value for column, value in zip(self.key_columns, key)))

    @property
    def edited_column(self) -> str | None:
        """The column an edit stamps: the contract's updated_at, 悟空CRM's update_time; none for a table read
        whole or appended to (its rows are not edited)."""
        watermark = self.contract.watermark
        return watermark[0] if watermark and watermark[0] != "create_time" else None

    def newest_update(self) -> datetime:
        """The table's newest watermark (悟空CRM: coalesce(update_time, create_time))."""
        columns = [self.table.c[name] for name in self.contract.watermark if name in self.table.c]
        newest = func.coalesce(*columns) if len(columns) > 1 else columns[0]
        return self.connection.execute(select(func.max(newest))).scalar_one()

    def change(self, keys: list[tuple], values: Callable[[int, tuple], dict], touch: bool = True) -> None:
        """Sets values(i, key) on the rows of each key, and a fresh updated_at (update_time) unless touch is
        off or the table has no such column."""
        if not keys:
            return
        stamp = self.edited_column if touch else None
        now = self.newest_update() + timedelta(seconds=1) if stamp else None
        for i, key in enumerate(keys):
            self.connection.execute(
                update(self.table).where(self.matches(key)).values(**values(i, key), **({stamp: now} if stamp else {}))
            )

    def pick_column(self, candidates: list[str], what: str) -> str:
        if self.column is not None:
            if self.column not in candidates:
                raise ValueError(f"{self.table.name}.{self.column} is not {what}; choose one of {candidates}")
            return self.column
        if not candidates:
            raise ValueError(f"{self.table.name} has no {what}; choose another table")
        return candidates[0]

    def columns_of_type(self, kind: str) -> list[str]:
        return [
            c.name
            for c in self.contract.columns
            if c.type == kind and c.name not in self.contract.primary_key and c.name in self.table.c
        ]

    def result(self, defect: str, keys: list[tuple], column: str | None, description: str) -> InjectedDefect:
        return InjectedDefect(defect, self.table.name, tuple(keys), column, description)


def _present_table(connection: Connection, contract: SourceTable) -> Table:
    """The table as it is now (earlier defects may have added or dropped columns), with contract types
    where the contract has the column. Built from the column list rather than full reflection, which
    not every dialect supports (duckdb-engine cannot reflect comments)."""
    columns = inspect(connection).get_columns(contract.name)
    types = {c.name: SQL_TYPES[c.type] for c in contract.columns}
    return Table(contract.name, MetaData(), *(Column(c["name"], types.get(c["name"], c["type"])) for c in columns))


def _duplicate_rows(target: _Target) -> InjectedDefect:
    keys = target.sample()
    for key in keys:
        row = target.connection.execute(select(target.table).where(target.matches(key)).limit(1)).mappings().one()
        target.connection.execute(insert(target.table).values(**row))
    return target.result(
        "duplicate_rows", keys, None, f"{len(keys)} rows of {target.table.name} written twice, identical"
    )


def _foreign_key_column(target: _Target, required_only: bool) -> str:
    references = foreign_keys(target.contract)
    candidates = [
        c
        for c in references
        if c in target.table.c and not (required_only and (target.table.name, c) in NULLABLE_FOREIGN_KEYS)
    ]
    return target.pick_column(candidates, "a required foreign key" if required_only else "a foreign key")


def _null_foreign_keys(target: _Target) -> InjectedDefect:
    column = _foreign_key_column(target, required_only=True)
    keys = target.sample(target.table.c[column].is_not(None))
    target.change(keys, lambda i, key: {column: None})
    return target.result(
        "null_foreign_keys", keys, column, f"{column} set to null on {len(keys)} rows of {target.table.name}"
    )


def _orphan_foreign_keys(target: _Target) -> InjectedDefect:
    column = _foreign_key_column(target, required_only=False)
    parent = source_table(foreign_keys(target.contract)[column])
    parent_key = _present_table(target.connection, parent).c[parent.primary_key[0]]
    first_missing = (target.connection.execute(select(func.max(parent_key))).scalar_one() or 0) + 1_000_000
    keys = target.sample()
    target.change(keys, lambda i, key: {column: first_missing + i})
    return target.result(
        "orphan_foreign_keys",
        keys,
        column,
        f"{column} of {len(keys)} rows of {target.table.name} points at {parent.name} ids "
        f"{first_missing}..{first_missing + len(keys) - 1}, which do not exist",
    )


def _negative_amounts(target: _Target) -> InjectedDefect:
    column = target.pick_column(target.columns_of_type("money"), "a money column")
    keys = target.sample(target.table.c[column] > 0)
    target.change(keys, lambda i, key: {column: -target.table.c[column]})
    return target.result(
        "negative_amounts", keys, column, f"{column} made negative on {len(keys)} rows of {target.table.name}"
    )


def _absurd_amounts(target: _Target) -> InjectedDefect:
    column = target.pick_column(target.columns_of_type("money"), "a money column")
    keys = target.sample()
    target.change(keys, lambda i, key: {column: _ABSURD_AMOUNT + i})
    return target.result(
        "absurd_amounts",
        keys,
        column,
        f"{column} set to about {_ABSURD_AMOUNT:,} on {len(keys)} rows of {target.table.name}",
    )


def _unknown_stages(target: _Target) -> InjectedDefect:
    column = target.pick_column(
        [c for c in ("stage", "to_stage", "from_stage") if c in target.table.c], "a stage column"
    )
    keys = target.sample(target.table.c[column].is_not(None))
    target.change(keys, lambda i, key: {column: _UNKNOWN_STAGES[i % len(_UNKNOWN_STAGES)]})
    return target.result(
        "unknown_stages",
        keys,
        column,
        f"{column} of {len(keys)} rows of {target.table.name} set to stages not in the catalogue {STAGES}",
    )


def _closed_before_created(target: _Target) -> InjectedDefect:
    table = target.table
    target.pick_column(["closed_at"] if "closed_at" in table.c else [], "a closed_at column")
    keys = target.sample(table.c.closed_at.is_not(None))
    created = {
        key: target.connection.execute(select(table.c.created_at).where(target.matches(key)).limit(1)).scalar_one()
        for key in keys
    }
    days_early = target.rng.integers(1, 31, size=len(keys))
    target.change(keys, lambda i, key: {"closed_at": created[key] - timedelta(days=int(days_early[i]))})
    return target.result(
        "closed_before_created",
        keys,
        "closed_at",
        f"closed_at set 1 to 30 days before created_at on {len(keys)} closed rows of {table.name}",
    )


def _late_arriving_updates(target: _Target) -> InjectedDefect:
    """Edits stamped with an updated_at between the row's own and the table's newest: a watermark
    extract that already passed that moment never sees them."""
    kinds = {c.name: c.type for c in target.contract.columns}
    editable = sorted(
        (
            name
            for name, kind in kinds.items()
            if kind in _LATE_EDITS
            and name not in target.contract.primary_key
            and name in target.table.c
            and name not in foreign_keys(target.contract)
        ),
        key=lambda name: list(_LATE_EDITS).index(kinds[name]),
    )
    column = target.pick_column(editable, "an editable date, text or money column")
    newest = target.newest_update()
    keys = target.sample(target.table.c.updated_at < newest - timedelta(hours=1))
    old = {
        key: target.connection.execute(
            select(target.table.c.updated_at, target.table.c[column]).where(target.matches(key)).limit(1)
        ).one()
        for key in keys
    }
    share = target.rng.uniform(0.2, 0.8, size=len(keys))

    def values(i: int, key: tuple) -> dict:
        updated_at, value = old[key]
        late = (updated_at + (newest - updated_at) * float(share[i])).replace(microsecond=0)
        return {"updated_at": late, column: None if value is None else _LATE_EDITS[kinds[column]](value)}

    target.change(keys, values, touch=False)
    return target.result(
        "late_arriving_updates",
        keys,
        column,
        f"{column} of {len(keys)} rows of {target.table.name} edited with an updated_at older than the newest ({newest})",
    )


def _soft_deletes(target: _Target) -> InjectedDefect:
    if not target.contract.has_soft_delete:
        raise ValueError(
            f"{target.table.name} has no is_deleted column; soft deletes apply to "
            f"{[t.name for t in _soft_delete_tables()]}"
        )
    keys = target.sample(target.table.c.is_deleted.is_(False))
    target.change(keys, lambda i, key: {"is_deleted": True})
    return target.result(
        "soft_deletes", keys, "is_deleted", f"{len(keys)} rows of {target.table.name} flagged is_deleted"
    )


def _soft_delete_tables() -> list[SourceTable]:
    return [t for t in SOURCE_TABLES if t.has_soft_delete]


def _hard_deletes(target: _Target) -> InjectedDefect:
    keys = target.sample()
    for key in keys:
        target.connection.execute(delete(target.table).where(target.matches(key)))
    return target.result("hard_deletes", keys, None, f"{len(keys)} rows of {target.table.name} deleted outright")


def _new_column(target: _Target) -> InjectedDefect:
    column = target.column or _NEW_COLUMN
    if column in target.table.c:
        raise ValueError(f"{target.table.name} already has a column {column}; pass another name")
    preparer = target.connection.dialect.identifier_preparer
    column_type = SQL_TYPES["text"].compile(dialect=target.connection.dialect)
    target.connection.execute(
        text(f"ALTER TABLE {preparer.quote(target.table.name)} ADD COLUMN {preparer.quote(column)} {column_type}")
    )
    target.table = _present_table(target.connection, target.contract)
    keys = target.sample()
    target.change(keys, lambda i, key: {column: f"custom value {i + 1}"}, touch=False)
    return target.result(
        "new_column", keys, column, f"column {column} added to {target.table.name}, filled on {len(keys)} rows"
    )


def _dropped_column(target: _Target) -> InjectedDefect:
    droppable = [
        c
        for c in target.contract.column_names
        if c not in target.contract.primary_key
        and c != "updated_at"
        and c not in target.contract.watermark
        and c in target.table.c
    ]
    column = target.column or droppable[int(target.rng.integers(len(droppable)))]
    target.pick_column(droppable, "a droppable contract column (not a key, not updated_at)")
    preparer = target.connection.dialect.identifier_preparer
    target.connection.execute(
        text(f"ALTER TABLE {preparer.quote(target.table.name)} DROP COLUMN {preparer.quote(column)}")
    )
    return target.result("dropped_column", [], column, f"contract column {target.table.name}.{column} dropped")


def _empty_table(target: _Target) -> InjectedDefect:
    removed = target.connection.execute(delete(target.table)).rowcount
    return target.result("empty_table", [], None, f"all {removed} rows of {target.table.name} deleted")


_INJECTORS: dict[str, tuple[Callable[[_Target], InjectedDefect], str]] = {
    "duplicate_rows": (_duplicate_rows, "opportunities"),
    "null_foreign_keys": (_null_foreign_keys, "opportunities"),
    "orphan_foreign_keys": (_orphan_foreign_keys, "opportunities"),
    "negative_amounts": (_negative_amounts, "opportunities"),
    "absurd_amounts": (_absurd_amounts, "opportunities"),
    "unknown_stages": (_unknown_stages, "opportunities"),
    "closed_before_created": (_closed_before_created, "opportunities"),
    "late_arriving_updates": (_late_arriving_updates, "opportunities"),
    "soft_deletes": (_soft_deletes, "opportunities"),
    "hard_deletes": (_hard_deletes, "activities"),
    "new_column": (_new_column, "opportunities"),
    "dropped_column": (_dropped_column, "opportunities"),
    "empty_table": (_empty_table, "satisfaction_surveys"),
}
DEFECTS: tuple[str, ...] = tuple(_INJECTORS)
DEFAULT_TABLES: dict[str, str] = {defect: table for defect, (_, table) in _INJECTORS.items()}


# 悟空CRM ---------------------------------------------------------------------------------------------
# What a 悟空CRM database holds that the contract cannot: approvals, voided plans, invalid opportunities,
# children deleted outright. The mapping must count none of it (sources.md).

_UNAPPROVED = (2, 8, 0, 3)  # rejected, voided, pending, in review
_UNKNOWN_CHECK_STATUSES = (11, 42, 99, -1)  # none of 悟空CRM's 0..10
_CHECKED_TABLES = ("wk_crm_contract", "wk_crm_receivables", "wk_crm_invoice")
_CHILD_TABLES = (
    "wk_crm_business_product",
    "wk_crm_receivables_plan",
    "wk_crm_activity",
    "wk_crm_customer_data",
    "wk_crm_contacts",
    "wk_crm_return_visit_data",
)


def _only(target: _Target, tables: tuple[str, ...], what: str) -> None:
    if target.table.name not in tables:
        raise ValueError(f"{target.table.name} has no {what}; choose one of {list(tables)}")


def _unapproved_contracts(target: _Target) -> InjectedDefect:
    _only(target, _CHECKED_TABLES, "check_status")
    keys = target.sample(target.table.c.check_status.in_([1, 10]))
    target.change(keys, lambda i, key: {"check_status": _UNAPPROVED[i % len(_UNAPPROVED)]})
    return target.result(
        "unapproved_contracts",
        keys,
        "check_status",
        f"check_status of {len(keys)} approved rows of {target.table.name} set to {_UNAPPROVED} "
        "(rejected, voided, pending, in review): not signed, counted nowhere",
    )


def _unknown_check_status(target: _Target) -> InjectedDefect:
    _only(target, _CHECKED_TABLES, "check_status")
    keys = target.sample()
    target.change(keys, lambda i, key: {"check_status": _UNKNOWN_CHECK_STATUSES[i % len(_UNKNOWN_CHECK_STATUSES)]})
    return target.result(
        "unknown_check_status",
        keys,
        "check_status",
        f"check_status of {len(keys)} rows of {target.table.name} set to values 悟空CRM does not have "
        f"{_UNKNOWN_CHECK_STATUSES}",
    )


def _voided_plans(target: _Target) -> InjectedDefect:
    _only(target, ("wk_crm_receivables_plan",), "received_status")
    keys = target.sample(target.table.c.received_status != 3)
    target.change(keys, lambda i, key: {"received_status": 3})
    return target.result(
        "voided_plans", keys, "received_status", f"{len(keys)} payment plans voided (received_status 3)"
    )


def _invalid_opportunities(target: _Target) -> InjectedDefect:
    """Open opportunities marked invalid, with the type-3 follow-up 无效 悟空CRM writes when it closes one."""
    _only(target, ("wk_crm_business",), "is_end")
    business = target.table
    keys = target.sample(and_(business.c.is_end == 0, business.c.status != 3))
    activity = _present_table(target.connection, wukong_table("wk_crm_activity"))
    newest = max(
        target.newest_update(),
        target.connection.execute(select(func.max(activity.c.create_time))).scalar_one() or datetime.min,
    )
    now = newest + timedelta(seconds=1)
    target.change(keys, lambda i, key: {"is_end": 3, "status_remark": "无效商机", "update_time": now}, touch=False)
    ids = np.array([key[0] for key in keys], dtype=np.int64)
    owners = np.array(
        [
            target.connection.execute(select(business.c.owner_user_id).where(business.c.business_id == i)).scalar_one()
            for i in ids.tolist()
        ],
        dtype=np.int64,
    )
    target.connection.execute(delete(activity).where(activity.c.activity_id.in_((CLOSING_NOTE_IDS + ids).tolist())))
    if len(ids):
        wukong_writer(target.connection, build_wukong_metadata()).insert(
            "wk_crm_activity",
            system_records(
                CLOSING_NOTE_IDS + ids,
                ids,
                np.full(len(ids), INVALID_CONTENT, dtype=object),
                owners,
                np.full(len(ids), int((now - datetime(1970, 1, 1)).total_seconds()), dtype=np.int64),
            ),
        )
    return target.result(
        "invalid_opportunities",
        keys,
        "is_end",
        f"{len(keys)} open opportunities closed as invalid (is_end 3) at {now}, each with a 无效 follow-up",
    )


def _hard_deleted_children(target: _Target) -> InjectedDefect:
    _only(target, _CHILD_TABLES, "children 悟空CRM deletes outright")
    injected = _hard_deletes(target)
    return InjectedDefect("hard_deleted_children", injected.table, injected.keys, None, injected.description)


_WUKONG_INJECTORS: dict[str, tuple[Callable[[_Target], InjectedDefect], str]] = {
    "unapproved_contracts": (_unapproved_contracts, "wk_crm_contract"),
    "unknown_check_status": (_unknown_check_status, "wk_crm_contract"),
    "voided_plans": (_voided_plans, "wk_crm_receivables_plan"),
    "invalid_opportunities": (_invalid_opportunities, "wk_crm_business"),
    "hard_deleted_children": (_hard_deleted_children, "wk_crm_business_product"),
}
WUKONG_DEFECTS: tuple[str, ...] = tuple(_WUKONG_INJECTORS)
WUKONG_DEFAULT_TABLES: dict[str, str] = {defect: table for defect, (_, table) in _WUKONG_INJECTORS.items()}
# Contract defects that work on any table shape: on a 悟空CRM database they take a wk_ table (--table).
_ANY_SHAPE = ("negative_amounts", "absurd_amounts", "hard_deletes", "new_column", "dropped_column", "empty_table")


# Salesforce --------------------------------------------------------------------------------------------
# What a synced Salesforce org holds that the contract cannot: an id twice, history rows that change no stage,
# a stage the picklist lacks, a row the sync keeps after the record left the org (sources.md).

_UNKNOWN_STAGE_NAMES = ("Closed Won (legacy)", "Verbal Commit", "POC", "Id. Decision Makers")
# History rows the amount_only_history defect adds get ids from a range the translation never uses.
AMOUNT_CHANGE_IDS = 10**12
_AMOUNT_CHANGE_FACTOR = Decimal("1.10")


def _duplicated_ids(target: _Target) -> InjectedDefect:
    """Rows synced twice under the same 18-character id, the copy with a newer _fivetran_synced."""
    keys = target.sample()
    now = target.newest_update() + timedelta(seconds=1)
    for key in keys:
        row = target.connection.execute(select(target.table).where(target.matches(key)).limit(1)).mappings().one()
        target.connection.execute(insert(target.table).values(**(dict(row) | {"_fivetran_synced": now})))
    return target.result(
        "duplicated_ids", keys, "id", f"{len(keys)} ids of {target.table.name} synced twice (the copy at {now})"
    )


def _amount_only_history(target: _Target) -> InjectedDefect:
    """Open opportunities re-priced by 10%: Salesforce writes an OpportunityHistory row with the new amount and
    the same stage (not a stage change), and the opportunity gets the new amount."""
    _only(target, ("opportunity",), "opportunity_history to add rows to (--table opportunity)")
    opportunity = target.table
    keys = target.sample(and_(opportunity.c.is_closed.is_(False), opportunity.c.is_deleted.is_(False)))
    history = _present_table(target.connection, simulated_table("opportunity_history"))
    now = max(
        target.newest_update(),
        target.connection.execute(select(func.max(history.c._fivetran_synced))).scalar_one(),
    ) + timedelta(seconds=1)
    new_ids = []
    for (key,) in keys:
        latest = (
            target.connection.execute(
                select(history).where(history.c.opportunity_id == key).order_by(history.c.created_date.desc()).limit(1)
            )
            .mappings()
            .one()
        )
        amount = (Decimal(str(latest["amount"])) * _AMOUNT_CHANGE_FACTOR).quantize(Decimal("0.01"))
        # Unique however often it is injected: a row added here is the next injection's latest.
        new_ids.append(salesforce_ids("opportunity_history", [AMOUNT_CHANGE_IDS + contract_id_of(latest["id"])])[0])
        changed_at = max(latest["created_date"], now - timedelta(seconds=1))
        target.connection.execute(
            insert(history).values(
                **(
                    dict(latest)
                    | {"id": new_ids[-1], "amount": amount, "created_date": changed_at, "_fivetran_synced": now}
                )
            )
        )
        target.connection.execute(
            update(opportunity)
            .where(target.matches((key,)))
            .values(amount=amount, last_modified_date=changed_at, _fivetran_synced=now)
        )
    return target.result(
        "amount_only_history",
        keys,
        "amount",
        f"{len(keys)} open opportunities re-priced by 10%, each with an opportunity_history row of the same stage "
        f"({', '.join(new_ids)})",
    )


def _unknown_stage_names(target: _Target) -> InjectedDefect:
    _only(target, ("opportunity", "opportunity_history"), "stage_name")
    keys = target.sample(target.table.c.stage_name.is_not(None))
    target.change(keys, lambda i, key: {"stage_name": _UNKNOWN_STAGE_NAMES[i % len(_UNKNOWN_STAGE_NAMES)]})
    return target.result(
        "unknown_stage_names",
        keys,
        "stage_name",
        f"stage_name of {len(keys)} rows of {target.table.name} set to names opportunity_stage lacks "
        f"{_UNKNOWN_STAGE_NAMES}",
    )


def _fivetran_deleted(target: _Target) -> InjectedDefect:
    """Records deleted from the org (hard-deleted or purged): the sync keeps the row and flags it."""
    live = target.table.c._fivetran_deleted.is_(False)
    if "is_deleted" in target.table.c:
        live = and_(live, target.table.c.is_deleted.is_(False))
    keys = target.sample(live)
    target.change(keys, lambda i, key: {"_fivetran_deleted": True})
    return target.result(
        "fivetran_deleted",
        keys,
        "_fivetran_deleted",
        f"{len(keys)} rows of {target.table.name} deleted from the org, kept by the sync with _fivetran_deleted",
    )


_SALESFORCE_INJECTORS: dict[str, tuple[Callable[[_Target], InjectedDefect], str]] = {
    "duplicated_ids": (_duplicated_ids, "opportunity"),
    "amount_only_history": (_amount_only_history, "opportunity"),
    "unknown_stage_names": (_unknown_stage_names, "opportunity"),
    "fivetran_deleted": (_fivetran_deleted, "opportunity"),
}
SALESFORCE_DEFECTS: tuple[str, ...] = tuple(_SALESFORCE_INJECTORS)
SALESFORCE_DEFAULT_TABLES: dict[str, str] = {defect: table for defect, (_, table) in _SALESFORCE_INJECTORS.items()}
_SYSTEM_INJECTORS = {"wukong": _WUKONG_INJECTORS, "salesforce": _SALESFORCE_INJECTORS}
_SYSTEM_LABELS = {"wukong": "悟空CRM", "salesforce": "Salesforce"}
_SYSTEM_TABLES = {"wukong": wukong_table, "salesforce": simulated_table}
ALL_DEFECTS: tuple[str, ...] = DEFECTS + WUKONG_DEFECTS + SALESFORCE_DEFECTS
ALL_DEFAULT_TABLES: dict[str, str] = DEFAULT_TABLES | WUKONG_DEFAULT_TABLES | SALESFORCE_DEFAULT_TABLES


def defects_of(system: str) -> tuple[str, ...]:
    """The defects a generation can inject into a database of system's shape without naming a table."""
    return tuple(_SYSTEM_INJECTORS[system]) if system in _SYSTEM_INJECTORS else DEFECTS


def source_system(connection: Connection) -> str:
    """The shape of the database's CRM tables: what the simulator recorded, else what its tables say."""
    tables = set(inspect(connection).get_table_names())
    if STATE_TABLE in tables:
        state = Table(STATE_TABLE, MetaData(), Column("key", String(64)), Column("value", Text()))
        recorded = connection.execute(select(state.c.value).where(state.c.key == "system")).scalar_one_or_none()
        if recorded is not None:
            return json.loads(recorded)
    if "wk_crm_business" in tables:
        return "wukong"
    return "salesforce" if "opportunity_history" in tables else "contract"


def _source_table(connection: Connection, url: str, defect: str, table: str | None) -> SourceTable:
    """The table to damage, checked against the database's shape."""
    system = source_system(connection)
    for owner, injectors in _SYSTEM_INJECTORS.items():
        if defect in injectors:
            if system != owner:
                raise ValueError(
                    f"{defect} is a {_SYSTEM_LABELS[owner]} defect and {url} holds {system} tables; "
                    f"generate a {_SYSTEM_LABELS[owner]} database with --system {owner}"
                )
            return _SYSTEM_TABLES[owner](table or injectors[defect][1])
    if system in _SYSTEM_INJECTORS:
        if defect not in (*_ANY_SHAPE, "duplicate_rows", "soft_deletes") or table is None:
            raise ValueError(
                f"{url} is a {_SYSTEM_LABELS[system]} database: its defects are "
                f"{', '.join(_SYSTEM_INJECTORS[system])}, and {', '.join(_ANY_SHAPE)}, duplicate_rows or soft_deletes with one "
                "of its tables (--table)"
            )
        return _SYSTEM_TABLES[system](table)
    return source_table(table or DEFAULT_TABLES[defect])


def inject(
    url: str, defect: str, *, table: str | None = None, count: int = 5, seed: int = 0, column: str | None = None
) -> InjectedDefect:
    """Writes one kind of dirty data into the database at url (default table per DEFAULT_TABLES, or
    WUKONG_DEFAULT_TABLES for the 悟空CRM defects, which need a database generated with --system wukong).

    The rows are chosen at random, the same ones for the same seed and database.
    """
    injectors = _INJECTORS | _WUKONG_INJECTORS | _SALESFORCE_INJECTORS
    if defect not in injectors:
        raise ValueError(f"unknown defect {defect!r}; expected one of {', '.join(ALL_DEFECTS)}")
    injector = injectors[defect][0]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            contract = _source_table(connection, url, defect, table)
            rng = np.random.default_rng([seed % 2**63, stable_key(defect, contract.name) % 2**63])
            return injector(_Target(connection, _present_table(connection, contract), contract, rng, count, column))
    finally:
        engine.dispose()
