"""The simulated business as a sync tool lands a Salesforce org (Fivetran's schema): the inverse of sources.md's
Salesforce mapping.

A Salesforce database made by the simulator holds, like a 悟空CRM one, two things: the synced tables
(`crm_salesforce/source.py`, what the extract reads in salesforce mode) and the simulator's own contract-shaped
record of the same business, restricted to what Salesforce can hold (README "Salesforce"), which `advance` plays
forward as for a contract database. After each generation or advance the contract rows that changed (updated_at
after the previous clock) are translated here into the synced rows they become. Every synced row's id is computed
from its contract row, so a row translated twice is replaced, not duplicated.

Ids are 18-character Salesforce ids: the object's key prefix (001 account, 006 opportunity, ...), an instance
and a reserved character, nine base-62 digits of the contract id, and Salesforce's three-character
case-safe suffix. `contract_id_of` reads the contract id back, which lets a test match the two shapes' rows.

`_fivetran_synced` is the simulated moment the row was last written (the contract row's updated_at), so that
an incremental extract on it sees exactly what a day changed and the same seed gives the same rows;
`_fivetran_deleted` is false (the `fivetran_deleted` defect sets it).
"""

from __future__ import annotations

from dataclasses import replace as replaced
from functools import cache

import numpy as np
from sqlalchemy import Column, Index, MetaData, Table, and_, delete
from sqlalchemy.engine import Connection

from crm_contract import Column as SourceColumn
from crm_contract import SourceTable
from crm_salesforce import SOURCE_TABLES as SALESFORCE_TABLES
from crm_salesforce import source_table as declared_table
from crm_salesforce.source import KEY_PREFIXES
from simulator.catalogue import OPEN_STAGE_WIN_PERCENT, OPEN_STAGES, STAGE_LABELS
from simulator.schema import SQL_TYPES
from simulator.timeline import DAY, NULL, to_datetime
from simulator.world import WUKONG_CURRENCY, lookup
from simulator.writer import Columns, Writer, read_table

_INSTANCE = "5g0"  # the pod (5g) and the reserved character
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_DIGITS = 9
# The column a Salesforce admin adds for the loss reason (CRM_SALESFORCE_LOSS_REASON_FIELD=loss_reason_c).
LOSS_REASON_FIELD = "loss_reason_c"
CORPORATE_CURRENCY = WUKONG_CURRENCY  # the one currency of a compatible business
# Tables the simulator writes: every declared one but dated_conversion_rate (an org without advanced currency
# management: the optional table is absent, and currency_type holds the corporate currency).
WRITTEN_TABLES: tuple[str, ...] = tuple(t.name for t in SALESFORCE_TABLES if t.name != "dated_conversion_rate")
# What a task or event is, from the contract's activity type (a compatible business has only these three).
TASK_SUBTYPES = {"call": "Call", "email": "Email"}
EVENT_SUBTYPE = "Event"
ACTIVITY_TYPES = ("call", "email", "event")
_PRODUCTS_PER_LINE = 1_000  # a line's number: opportunity_id * 1000 + product_id
_MONTHS_PER_QUOTA_OWNER = 100_000  # a quota's number: user_id * 100000 + the month's first day (a day number)
_CHUNK = 900


@cache
def simulated_table(name: str) -> SourceTable:
    """The declared table, plus the custom field an org adds for the loss reason on opportunity."""
    table = declared_table(name)
    if name == "opportunity":
        return replaced(table, columns=(*table.columns, SourceColumn(LOSS_REASON_FIELD, "text")))
    return table


def salesforce_ids(table: str, numbers: np.ndarray) -> np.ndarray:
    """18-character ids of the table's object for non-negative integers below 62**9; NULL gives None."""
    numbers = np.asarray(numbers, dtype=np.int64)
    present = numbers != NULL
    values = np.where(present, numbers, 0)
    if (values < 0).any() or (values >= 62**_DIGITS).any():
        raise ValueError(f"{table}: ids must lie in 0..62**9 to become Salesforce ids")
    powers = 62 ** np.arange(_DIGITS - 1, -1, -1, dtype=np.int64)
    alphabet = np.frombuffer(_BASE62.encode(), dtype=np.uint8)
    head = np.frombuffer((KEY_PREFIXES[table] + _INSTANCE).encode(), dtype=np.uint8)
    chars = np.empty((len(values), 15), dtype=np.uint8)
    chars[:, :6] = head
    chars[:, 6:] = alphabet[(values[:, None] // powers) % 62]
    upper = (chars >= ord("A")) & (chars <= ord("Z"))
    weights = 1 << np.arange(5)
    suffix = np.frombuffer(_SUFFIX.encode(), dtype=np.uint8)[(upper.reshape(-1, 3, 5) * weights).sum(axis=2)]
    whole = np.concatenate([chars, suffix], axis=1)
    ids = np.array([row.tobytes().decode() for row in whole], dtype=object)
    return np.where(present, ids, None)


def contract_id_of(salesforce_id: str) -> int:
    """The contract id an 18-character id was made from (its nine base-62 digits)."""
    number = 0
    for char in salesforce_id[6:15]:
        number = number * 62 + _BASE62.index(char)
    return number


def build_salesforce_metadata() -> MetaData:
    """The synced tables, no primary-key constraint: a sync can hold a duplicated id (a defect writes one)."""
    metadata = MetaData()
    for name in WRITTEN_TABLES:
        table = simulated_table(name)
        Table(name, metadata, *(Column(c.name, SQL_TYPES[c.type]) for c in table.columns))
    return metadata


def create_salesforce_indexes(connection: Connection, metadata: MetaData) -> None:
    """An index on id and on _fivetran_synced (the extract's watermark) per table."""
    for name in WRITTEN_TABLES:
        table = metadata.tables[name]
        Index(f"ix_{name}_id", table.c.id).create(connection)
        Index(f"ix_{name}__fivetran_synced", table.c._fivetran_synced).create(connection)


def salesforce_writer(connection: Connection, metadata: MetaData) -> Writer:
    return Writer(connection, metadata, simulated_table)


def salesforce_table_names() -> tuple[str, ...]:
    return WRITTEN_TABLES


def _day(seconds: np.ndarray) -> np.ndarray:
    return np.where(seconds == NULL, NULL, seconds // DAY)


def _texts(values: list) -> np.ndarray:
    return np.array(values, dtype=object)


def _flags(count: int, value: bool = False) -> np.ndarray:
    return np.full(count, value, dtype=bool)


def sync_columns(synced_at: np.ndarray) -> Columns:
    """The sync's columns, and Salesforce's SystemModstamp: the simulated org writes a row when the sync copies it."""
    return {"_fivetran_synced": synced_at, "_fivetran_deleted": _flags(len(synced_at)), "system_modstamp": synced_at}


class Translation:
    """One pass from the contract tables to the synced Salesforce tables: the contract rows updated after
    `since` (every row when since is None, at generation) become the rows they imply."""

    def __init__(self, connection: Connection, contract: MetaData, writer: Writer, since: int | None, until: int):
        self.connection, self.contract, self.writer = connection, contract, writer
        self.since, self.until = since, until

    def changed(self, table: str, names: list[str]) -> Columns:
        where = None if self.since is None else self.contract.tables[table].c.updated_at > to_datetime(self.since)
        return read_table(self.connection, self.contract, table, names, where)

    def replace(self, table: str, rows: Columns) -> None:
        """Writes rows, first removing those with the same ids (the rows the contract rows implied before). A
        rewritten row counts as updated."""
        ids = rows["id"]
        removed = 0
        if self.since is not None and len(ids):
            column = self.writer.metadata.tables[table].c.id
            unique = sorted(set(ids.tolist()))
            for start in range(0, len(unique), _CHUNK):
                chosen = unique[start : start + _CHUNK]
                removed += self.connection.execute(delete(column.table).where(column.in_(chosen))).rowcount
        if len(ids):
            self.writer.insert(table, rows)
        rewritten = min(removed, len(ids))
        if rewritten:
            self.writer.inserted[table] -= rewritten
            self.writer.updated[table] += rewritten

    def run(self) -> None:
        if self.since is None:
            self.stages()
            self.currencies()
        self.roles()
        self.users()
        self.products()
        self.accounts()
        self.contacts()
        self.opportunities()
        self.history()
        self.lines()
        self.activities()
        self.quotas()

    def stages(self) -> None:
        """The org's stage picklist: the open stages with the seed's probabilities, then won and lost."""
        names = (*OPEN_STAGES, "won", "lost")
        count = len(names)
        self.replace(
            "opportunity_stage",
            {
                "id": salesforce_ids("opportunity_stage", np.arange(1, count + 1)),
                "api_name": _texts(list(names)),
                "master_label": _texts([STAGE_LABELS[name] for name in names]),
                "sort_order": np.arange(1, count + 1, dtype=np.int64),
                "default_probability": np.array([*OPEN_STAGE_WIN_PERCENT, 100, 0], dtype=np.float64),
                "is_active": _flags(count, True),
                "is_closed": np.array([name in ("won", "lost") for name in names]),
                "is_won": np.array([name == "won" for name in names]),
                **sync_columns(np.full(count, self.until, dtype=np.int64)),
            },
        )

    def currencies(self) -> None:
        """A single-currency org that still syncs currency_type: its one row is the corporate currency."""
        self.replace(
            "currency_type",
            {
                "id": salesforce_ids("currency_type", np.ones(1, np.int64)),
                "iso_code": _texts([CORPORATE_CURRENCY]),
                "conversion_rate": np.ones(1),
                "is_corporate": _flags(1, True),
                "is_active": _flags(1, True),
                **sync_columns(np.full(1, self.until, dtype=np.int64)),
            },
        )

    def roles(self) -> None:
        rows = self.changed("departments", ["department_id", "name", "parent_department_id", "updated_at"])
        self.replace(
            "user_role",
            {
                "id": salesforce_ids("user_role", rows["department_id"]),
                "name": rows["name"],
                "parent_role_id": salesforce_ids("user_role", rows["parent_department_id"]),
                **sync_columns(rows["updated_at"]),
            },
        )

    def users(self) -> None:
        rows = self.changed(
            "users",
            ["user_id", "name", "email", "department_id", "manager_user_id", "region", "hired_at", "is_active"]
            + ["updated_at"],
        )
        self.replace(
            "user",
            {
                "id": salesforce_ids("user", rows["user_id"]),
                "name": rows["name"],
                "email": rows["email"],
                "user_role_id": salesforce_ids("user_role", rows["department_id"]),
                "manager_id": salesforce_ids("user", rows["manager_user_id"]),
                "division": rows["region"],
                "is_active": rows["is_active"],
                "created_date": rows["hired_at"],
                **sync_columns(rows["updated_at"]),
            },
        )

    def products(self) -> None:
        rows = self.changed("products", ["product_id", "name", "category", "is_active", "updated_at"])
        self.replace(
            "product_2",
            {
                "id": salesforce_ids("product_2", rows["product_id"]),
                "name": rows["name"],
                "family": rows["category"],
                "is_active": rows["is_active"],
                "is_deleted": _flags(len(rows["product_id"])),
                "created_date": rows["updated_at"],
                **sync_columns(rows["updated_at"]),
            },
        )

    def accounts(self) -> None:
        names = ["customer_id", "name", "industry", "city", "province", "region", "level", "source"]
        rows = self.changed("customers", [*names, "owner_user_id", "created_at", "is_deleted", "updated_at"])
        self.replace(
            "account",
            {
                "id": salesforce_ids("account", rows["customer_id"]),
                "name": rows["name"],
                "industry": rows["industry"],
                "billing_city": rows["city"],
                "billing_state": rows["province"],
                "billing_country": rows["region"],
                "rating": rows["level"],
                "account_source": rows["source"],
                "owner_id": salesforce_ids("user", rows["owner_user_id"]),
                "is_deleted": rows["is_deleted"],
                "created_date": rows["created_at"],
                "last_modified_date": rows["updated_at"],
                **sync_columns(rows["updated_at"]),
            },
        )

    def contacts(self) -> None:
        rows = self.changed(
            "contacts",
            ["contact_id", "customer_id", "name", "title", "email", "phone", "created_at", "is_deleted", "updated_at"],
        )
        self.replace(
            "contact",
            {
                "id": salesforce_ids("contact", rows["contact_id"]),
                "name": rows["name"],
                "title": rows["title"],
                "email": rows["email"],
                "phone": rows["phone"],
                "account_id": salesforce_ids("account", rows["customer_id"]),
                "is_deleted": rows["is_deleted"],
                "created_date": rows["created_at"],
                **sync_columns(rows["updated_at"]),
            },
        )

    def opportunities(self) -> None:
        rows = self.changed(
            "opportunities",
            ["opportunity_id", "customer_id", "owner_user_id", "name", "source", "stage", "amount", "currency"]
            + ["expected_close_date", "status", "loss_reason", "created_at", "is_deleted", "updated_at"],
        )
        status = rows["status"]
        self.replace(
            "opportunity",
            {
                "id": salesforce_ids("opportunity", rows["opportunity_id"]),
                "name": rows["name"],
                "account_id": salesforce_ids("account", rows["customer_id"]),
                "owner_id": salesforce_ids("user", rows["owner_user_id"]),
                "lead_source": rows["source"],
                "stage_name": rows["stage"],
                "amount": rows["amount"],
                "currency_iso_code": rows["currency"],
                "close_date": rows["expected_close_date"],  # a closed one's is its close date (README)
                "is_closed": status != "open",
                "is_won": status == "won",
                "is_deleted": rows["is_deleted"],
                "created_date": rows["created_at"],
                "last_modified_date": rows["updated_at"],
                **sync_columns(rows["updated_at"]),
                LOSS_REASON_FIELD: rows["loss_reason"],
            },
        )

    def history(self) -> None:
        """A row per stage entry (the first at creation), with the opportunity's amount and close date as they
        are now and the stage's default probability."""
        rows = self.changed(
            "opportunity_stage_history", ["history_id", "opportunity_id", "to_stage", "changed_at", "updated_at"]
        )
        deals = self._opportunities_of(rows["opportunity_id"])
        probability = dict(zip((*OPEN_STAGES, "won", "lost"), (*OPEN_STAGE_WIN_PERCENT, 100, 0)))
        self.replace(
            "opportunity_history",
            {
                "id": salesforce_ids("opportunity_history", rows["history_id"]),
                "opportunity_id": salesforce_ids("opportunity", rows["opportunity_id"]),
                "stage_name": rows["to_stage"],
                "amount": lookup(deals["opportunity_id"], deals["amount"], rows["opportunity_id"], np.nan),
                "close_date": lookup(
                    deals["opportunity_id"], deals["expected_close_date"], rows["opportunity_id"], NULL
                ),
                "probability": np.array([probability.get(s, np.nan) for s in rows["to_stage"].tolist()], np.float64),
                "created_date": rows["changed_at"],
                "is_deleted": _flags(len(rows["history_id"])),
                **sync_columns(rows["updated_at"]),
            },
        )

    def _opportunities_of(self, ids: np.ndarray) -> Columns:
        names = ["opportunity_id", "amount", "expected_close_date"]
        table = self.contract.tables["opportunities"]
        wanted = np.unique(ids)
        parts = [
            read_table(
                self.connection,
                self.contract,
                "opportunities",
                names,
                table.c.opportunity_id.in_([int(i) for i in wanted[start : start + _CHUNK]]),
            )
            for start in range(0, len(wanted), _CHUNK)
        ] or [read_table(self.connection, self.contract, "opportunities", names, table.c.opportunity_id < 0)]
        rows = {name: np.concatenate([p[name] for p in parts]) for name in names}
        _, first = np.unique(rows["opportunity_id"], return_index=True)
        return {name: values[first] for name, values in rows.items()}

    def lines(self) -> None:
        rows = self.changed(
            "opportunity_products",
            ["opportunity_id", "product_id", "quantity", "unit_price", "discount_pct", "updated_at"],
        )
        if (rows["product_id"] >= _PRODUCTS_PER_LINE).any():
            raise ValueError(f"opportunity_products: product ids must stay below {_PRODUCTS_PER_LINE}")
        self.replace(
            "opportunity_line_item",
            {
                "id": salesforce_ids(
                    "opportunity_line_item", rows["opportunity_id"] * _PRODUCTS_PER_LINE + rows["product_id"]
                ),
                "opportunity_id": salesforce_ids("opportunity", rows["opportunity_id"]),
                "product_2_id": salesforce_ids("product_2", rows["product_id"]),
                "quantity": rows["quantity"].astype(np.float64),
                "unit_price": rows["unit_price"],
                "discount": rows["discount_pct"],
                "is_deleted": _flags(len(rows["product_id"])),
                "created_date": rows["updated_at"],
                **sync_columns(rows["updated_at"]),
            },
        )

    def activities(self) -> None:
        """Calls and e-mails are tasks (a date, no time), the rest events (a date and a time)."""
        rows = self.changed(
            "activities",
            ["activity_id", "customer_id", "opportunity_id", "user_id", "activity_type", "occurred_at"]
            + ["is_deleted", "updated_at"],
        )
        kind = rows["activity_type"]
        unknown = ~np.isin(kind, ACTIVITY_TYPES)
        if unknown.any():
            raise ValueError(
                f"activities {int(rows['activity_id'][unknown][0])}: type {kind[unknown][0]!r} is neither a task "
                f"nor an event of a Salesforce-compatible business {ACTIVITY_TYPES}"
            )
        on_deal = rows["opportunity_id"] != NULL
        what = np.where(
            on_deal,
            salesforce_ids("opportunity", rows["opportunity_id"]),
            salesforce_ids("account", rows["customer_id"]),
        )
        for table, chosen, subtype in (
            ("task", kind != "event", "task_subtype"),
            ("event", kind == "event", "event_subtype"),
        ):
            labels = _texts([TASK_SUBTYPES.get(k, EVENT_SUBTYPE) for k in kind[chosen].tolist()])
            columns = {
                "id": salesforce_ids(table, rows["activity_id"][chosen]),
                "account_id": salesforce_ids("account", rows["customer_id"][chosen]),
                "what_id": what[chosen],
                "who_id": np.full(int(chosen.sum()), None, dtype=object),
                "owner_id": salesforce_ids("user", rows["user_id"][chosen]),
                "subject": labels,
                subtype: labels,
                "activity_date": _day(rows["occurred_at"][chosen]),
            }
            if table == "event":
                columns["activity_date_time"] = rows["occurred_at"][chosen]
            columns |= {
                "is_deleted": rows["is_deleted"][chosen],
                "created_date": rows["occurred_at"][chosen],
                **sync_columns(rows["updated_at"][chosen]),
            }
            self.replace(table, columns)

    def quotas(self) -> None:
        rows = self.changed("sales_targets", ["user_id", "target_month", "contract_amount_target", "updated_at"])
        count = len(rows["user_id"])
        self.replace(
            "forecasting_quota",
            {
                "id": salesforce_ids(
                    "forecasting_quota", rows["user_id"] * _MONTHS_PER_QUOTA_OWNER + rows["target_month"]
                ),
                "quota_owner_id": salesforce_ids("user", rows["user_id"]),
                "start_date": rows["target_month"],
                "quota_amount": rows["contract_amount_target"],
                "currency_iso_code": np.full(count, CORPORATE_CURRENCY, dtype=object),
                **sync_columns(rows["updated_at"]),
            },
        )


def contracts_of_won_opportunities(
    connection: Connection, contract: MetaData, writer: Writer, since: int | None
) -> None:
    """The contract record's contracts of a Salesforce-compatible business: one per won opportunity (sources.md),
    contract_id = the opportunity's id, contract_no its 18-character id, signed on the close date for the opportunity's amount and currency, active,
    deleted with the opportunity. Rewritten from the opportunities changed after since, so a later edit or
    deletion of a won opportunity reaches its contract."""
    opportunities = contract.tables["opportunities"]
    where = opportunities.c.status == "won"
    if since is not None:
        where = and_(where, opportunities.c.updated_at > to_datetime(since))
    rows = read_table(
        connection,
        contract,
        "opportunities",
        ["opportunity_id", "customer_id", "owner_user_id", "name", "amount", "currency", "expected_close_date"]
        + ["closed_at", "is_deleted", "updated_at"],
        where,
    )
    _, first = np.unique(rows["opportunity_id"], return_index=True)
    rows = {name: values[first] for name, values in rows.items()}
    ids = rows["opportunity_id"]
    contracts = contract.tables["contracts"]
    removed = 0
    for start in range(0, len(ids), _CHUNK):
        chosen = [int(i) for i in ids[start : start + _CHUNK]]
        removed += connection.execute(delete(contracts).where(contracts.c.contract_id.in_(chosen))).rowcount
    if not len(ids):
        return
    signed = rows["expected_close_date"]
    writer.insert(
        "contracts",
        {
            "contract_id": ids,
            "contract_no": salesforce_ids("opportunity", ids),  # the mapping's: the opportunity's 18-character id
            "opportunity_id": ids,
            "customer_id": rows["customer_id"],
            "owner_user_id": rows["owner_user_id"],
            "amount": rows["amount"],
            "currency": rows["currency"],
            "signed_date": signed,
            "start_date": signed,
            "end_date": np.full(len(ids), NULL, dtype=np.int64),
            "status": np.full(len(ids), "active", dtype=object),
            "created_at": rows["closed_at"],
            "is_deleted": rows["is_deleted"],
            "updated_at": rows["updated_at"],
        },
    )
    writer.inserted["contracts"] -= min(removed, len(ids))
    writer.updated["contracts"] += min(removed, len(ids))
