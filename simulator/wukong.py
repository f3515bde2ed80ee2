"""The simulated business written into 悟空CRM 11's tables: the inverse of sources.md's 悟空CRM mapping.

A 悟空CRM database made by the simulator holds two things: the `wk_` tables a real 悟空CRM would have
(what the extract reads in wukong mode), and the simulator's own contract-shaped record of the same
business (the contract tables, restricted to what 悟空CRM can hold: README "悟空CRM"), which `advance`
plays forward exactly as it does for a contract database. After each generation or advance, the
contract rows that changed (updated_at after the previous clock) are translated here into the `wk_` rows
they become; every derived row has an id computed from its contract row, so a row translated twice is
replaced, not duplicated, and rows a defect changed are left alone unless the business changes them.

What 悟空CRM does differently, and this module therefore does: it writes no stage change at creation and
none at closing (a closing is is_end on the opportunity plus a follow-up of type 3 with content 赢单 or
输单, and every stage advance writes a type-3 follow-up too); it keeps a customer's industry, level,
source and region as custom-field rows joined on batch_id; its targets are one row per person, year and
kind with twelve month columns (0 = no target); a satisfaction score is a word in a return visit's
custom field; deleting a follow-up or a contact removes the row; and every time is local, without a
zone (the database's time zone, Asia/Shanghai by default).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Column, Index, MetaData, Table, delete
from sqlalchemy.engine import Connection

from crm_wukong import SOURCE_TABLES as WUKONG_TABLES
from crm_wukong import source_table as wukong_table
from simulator.catalogue import OPEN_STAGE_WIN_PERCENT, OPEN_STAGES
from simulator.schema import SQL_TYPES
from simulator.timeline import DAY, NULL, to_datetime
from simulator.world import lookup
from simulator.writer import Columns, Writer, read_table

STAGE_GROUP_ID = 1
STAGE_GROUP_NAME = "销售流程"
IS_END = {"open": 0, "won": 1, "lost": 2}  # 3 (invalid) only comes from the invalid_opportunities defect
APPROVED, DELETED = 1, 7  # check_status: 1 approved; 7 deleted (counts nowhere, like every value but 1 and 10)
FULLY_RECEIVED, PARTLY_RECEIVED = 1, 2  # received_status; 0 nothing yet, 3 voided (a defect), 4 overdue (unused)
ACTIVE_RECORD, DELETED_RECORD = 1, 3  # status of a customer, product or opportunity
FOLLOW_UP, SYSTEM_RECORD = 1, 3  # wk_crm_activity.type
ABOUT_CUSTOMER, ABOUT_OPPORTUNITY = 2, 5  # wk_crm_activity.activity_type
CATEGORIES = {"call": "打电话", "email": "发邮件", "message": "发短信", "visit": "见面拜访", "meeting": "活动"}
CLOSING_CONTENT = {"won": "赢单", "lost": "输单"}
INVALID_CONTENT = "无效"
SATISFACTION_WORDS = {5: "很满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}
SATISFACTION_FIELD = "satisficing"
LEVEL_LABELS = {"A": "A（重点客户）", "B": "B（普通客户）", "C": "C（非优先客户）"}
CUSTOMER_FIELDS = ("industry", "level", "source", "region")  # field_id = position + 1
DISTRICT = "市辖区"  # the third part of an address; the mapping reads only province and city
TARGET_KINDS = {1: "contract_amount_target", 2: "payment_amount_target"}  # wk_crm_achievement.status
PERSON = 3  # wk_crm_achievement.type
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Rows that have no contract row of their own get ids from disjoint ranges, computed from their origin.
STAGE_NOTE_IDS = 1_000_000_000_000  # + history_id: the follow-up a stage advance writes
CLOSING_NOTE_IDS = 2_000_000_000_000  # + business_id: the follow-up a closing writes
_PRODUCTS_PER_LINE_ID = 1_000  # r_id = business_id * 1000 + product_id
_CHUNK = 900


def build_wukong_metadata() -> MetaData:
    """The declared 悟空CRM tables with their primary keys; utf8mb4 on MySQL, which holds the Chinese words."""
    metadata = MetaData()
    for table in WUKONG_TABLES:
        Table(
            table.name,
            metadata,
            *(
                Column(c.name, SQL_TYPES[c.type], primary_key=c.name in table.primary_key, autoincrement=False)
                for c in table.columns
            ),
            mysql_charset="utf8mb4",
        )
    return metadata


def create_wukong_indexes(connection: Connection, metadata: MetaData) -> None:
    """An index per watermark column: the extract reads coalesce(update_time, create_time) or create_time."""
    for table in WUKONG_TABLES:
        for column in table.watermark:
            Index(f"ix_{table.name}_{column}", metadata.tables[table.name].c[column]).create(connection)


def wukong_writer(connection: Connection, metadata: MetaData) -> Writer:
    return Writer(connection, metadata, wukong_table)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _offset(zone: ZoneInfo, second: int) -> int:
    return int(datetime.fromtimestamp(second, UTC).astimezone(zone).utcoffset().total_seconds())


def to_local(seconds: np.ndarray, timezone: str) -> np.ndarray:
    """UTC seconds as the wall-clock seconds of timezone, what 悟空CRM stores. One offset per distinct hour
    (thousands, not millions, of zone look-ups); the rare hour in which the offset changes is done value by value."""
    present = np.flatnonzero(seconds != NULL)
    out = seconds.copy()
    if not len(present):
        return out
    zone = _zone(timezone)
    hours, position = np.unique(seconds[present] // 3600, return_inverse=True)
    starts = np.array([_offset(zone, int(h) * 3600) for h in hours], dtype=np.int64)
    ends = np.array([_offset(zone, int(h) * 3600 + 3599) for h in hours], dtype=np.int64)
    offsets = starts[position]
    for i in np.flatnonzero(starts[position] != ends[position]):
        offsets[i] = _offset(zone, int(seconds[present[i]]))
    out[present] = seconds[present] + offsets
    return out


def _midnight(days: np.ndarray) -> np.ndarray:
    """A date in a datetime column (deal_date, order_date, ...): the day at 00:00, with no zone to convert."""
    return np.where(days == NULL, NULL, days * DAY)


def _constant(count: int, value: int) -> np.ndarray:
    return np.full(count, value, dtype=np.int64)


def _texts(values: list) -> np.ndarray:
    return np.array(values, dtype=object)


class Translation:
    """One pass from the contract tables to the 悟空CRM tables: the contract rows updated after `since`
    (every row when since is None, at generation) become the 悟空CRM rows they imply."""

    def __init__(
        self, connection: Connection, contract: MetaData, writer: Writer, since: int | None, timezone: str
    ) -> None:
        self.connection, self.contract, self.writer = connection, contract, writer
        self.since, self.timezone = since, timezone

    def local(self, seconds: np.ndarray) -> np.ndarray:
        return to_local(seconds, self.timezone)

    # Reading the contract copy --------------------------------------------------------------------

    def changed(self, table: str, names: list[str]) -> Columns:
        where = None if self.since is None else self.contract.tables[table].c.updated_at > to_datetime(self.since)
        return read_table(self.connection, self.contract, table, names, where)

    def of_ids(self, table: str, names: list[str], column: str, ids: np.ndarray) -> Columns:
        """Rows whose column is among ids (all rows at generation, where every id is wanted anyway)."""
        if self.since is None:
            return read_table(self.connection, self.contract, table, names)
        wanted = np.unique(ids[ids != NULL])
        parts = [
            read_table(
                self.connection,
                self.contract,
                table,
                names,
                self.contract.tables[table].c[column].in_([int(i) for i in wanted[start : start + _CHUNK]]),
            )
            for start in range(0, len(wanted), _CHUNK)
        ]
        if not parts:
            return read_table(self.connection, self.contract, table, names, self.contract.tables[table].c[column] < 0)
        return {name: np.concatenate([p[name] for p in parts]) for name in names}

    # Writing the 悟空CRM tables -------------------------------------------------------------------

    def replace(self, table: str, keys: np.ndarray, rows: Columns) -> None:
        """Writes rows, first removing the rows of keys (the rows these contract rows implied before, also
        the ones they no longer imply: a deleted follow-up). A rewritten row counts as updated."""
        removed = 0
        if self.since is not None and len(keys):
            column = self.writer.metadata.tables[table].c[wukong_table(table).primary_key[0]]
            unique = np.unique(keys)
            for start in range(0, len(unique), _CHUNK):
                chosen = [int(k) for k in unique[start : start + _CHUNK]]
                removed += self.connection.execute(delete(column.table).where(column.in_(chosen))).rowcount
        count = len(next(iter(rows.values()))) if rows else 0
        if count:
            self.writer.insert(table, rows)
        rewritten = min(removed, count)
        if rewritten:
            self.writer.inserted[table] -= rewritten
            self.writer.updated[table] += rewritten

    def run(self) -> None:
        if self.since is None:
            self.stage_group()
        self.departments()
        self.users()
        self.products()
        self.customers()
        self.contacts()
        self.opportunities()
        self.stage_changes()
        self.lines()
        self.contracts()
        self.plans()
        self.payments()
        self.invoices()
        self.activities()
        self.targets()
        self.visits()

    def stage_group(self) -> None:
        """One enabled stage group whose statuses are the open stages, with the seed's win probabilities."""
        count = len(OPEN_STAGES)
        self.writer.insert(
            "wk_crm_business_type",
            {"type_id": _constant(1, STAGE_GROUP_ID), "name": _texts([STAGE_GROUP_NAME]), "status": _constant(1, 1)},
        )
        self.writer.insert(
            "wk_crm_business_status",
            {
                "status_id": np.arange(1, count + 1, dtype=np.int64),
                "type_id": _constant(count, STAGE_GROUP_ID),
                "name": _texts(list(OPEN_STAGES)),
                "rate": _texts([str(p) for p in OPEN_STAGE_WIN_PERCENT]),
                "order_num": np.arange(1, count + 1, dtype=np.int64),
            },
        )

    def departments(self) -> None:
        rows = self.changed("departments", ["department_id", "name", "parent_department_id"])
        parent = rows["parent_department_id"]
        self.replace(
            "wk_admin_dept",
            rows["department_id"],
            {"dept_id": rows["department_id"], "pid": np.where(parent == NULL, 0, parent), "name": rows["name"]},
        )

    def users(self) -> None:
        rows = self.changed(
            "users", ["user_id", "name", "email", "department_id", "manager_user_id", "hired_at", "is_active"]
        )
        count = len(rows["user_id"])
        self.replace(
            "wk_admin_user",
            rows["user_id"],
            {
                "user_id": rows["user_id"],
                "realname": rows["name"],
                "email": rows["email"],
                "dept_id": rows["department_id"],
                "parent_id": np.where(rows["manager_user_id"] == NULL, 0, rows["manager_user_id"]),
                "status": np.where(rows["is_active"], 1, 0).astype(np.int64),
                "is_del": _constant(count, 0),
                "create_time": self.local(rows["hired_at"]),
            },
        )

    def products(self) -> None:
        rows = self.changed("products", ["product_id", "name", "category", "list_price", "is_active", "updated_at"])
        if not len(rows["product_id"]):
            return
        every = read_table(self.connection, self.contract, "products", ["category"])["category"]
        categories = sorted(set(every.tolist()))
        category_ids = np.arange(1, len(categories) + 1, dtype=np.int64)
        self.replace(
            "wk_crm_product_category",
            category_ids,
            {"category_id": category_ids, "name": _texts(categories), "pid": np.zeros(len(categories), np.int64)},
        )
        position = {name: i + 1 for i, name in enumerate(categories)}
        at = self.local(rows["updated_at"])
        self.replace(
            "wk_crm_product",
            rows["product_id"],
            {
                "product_id": rows["product_id"],
                "name": rows["name"],
                "category_id": np.array([position[c] for c in rows["category"]], dtype=np.int64),
                "price": rows["list_price"],
                "status": np.where(rows["is_active"], 1, 0).astype(np.int64),
                "create_time": at,
                "update_time": at,
            },
        )

    def customers(self) -> None:
        names = ["customer_id", "name", "industry", "city", "province", "region", "level", "source"]
        rows = self.changed("customers", [*names, "owner_user_id", "created_at", "is_deleted", "updated_at"])
        ids = rows["customer_id"]
        batch = _texts([f"customer-{i}" for i in ids.tolist()])
        address = rows["province"].astype(str) + "," + rows["city"].astype(str) + "," + DISTRICT
        self.replace(
            "wk_crm_customer",
            ids,
            {
                "customer_id": ids,
                "customer_name": rows["name"],
                "owner_user_id": rows["owner_user_id"],
                "address": address.astype(object),
                "status": np.where(rows["is_deleted"], DELETED_RECORD, ACTIVE_RECORD).astype(np.int64),
                "batch_id": batch,
                "create_time": self.local(rows["created_at"]),
                "update_time": self.local(rows["updated_at"]),
            },
        )
        # Custom-field rows are written when the customer is created; later edits of other fields keep them.
        new = np.ones(len(ids), bool) if self.since is None else rows["created_at"] > self.since
        field_ids, values, owners = [], [], []
        for number, field in enumerate(CUSTOMER_FIELDS, start=1):
            value = rows[field][new]
            if field == "level":
                value = _texts([LEVEL_LABELS.get(v, v) for v in value.tolist()])
            present = np.array([v is not None for v in value.tolist()], dtype=bool)
            field_ids.append(np.full(int(present.sum()), number, dtype=np.int64))
            values.append(value[present])
            owners.append(np.flatnonzero(new)[present])
        owner = np.concatenate(owners)
        field_id = np.concatenate(field_ids)
        data_ids = ids[owner] * 10 + field_id
        self.replace(
            "wk_crm_customer_data",
            data_ids,
            {
                "id": data_ids,
                "field_id": field_id,
                "name": _texts([CUSTOMER_FIELDS[f - 1] for f in field_id.tolist()]),
                "value": np.concatenate(values).astype(object),
                "batch_id": batch[owner],
                "create_time": self.local(rows["created_at"][owner]),
            },
        )

    def contacts(self) -> None:
        rows = self.changed(
            "contacts",
            ["contact_id", "customer_id", "name", "title", "email", "phone", "created_at", "is_deleted", "updated_at"],
        )
        kept = ~rows["is_deleted"]  # 悟空CRM removes a deleted contact
        self.replace(
            "wk_crm_contacts",
            rows["contact_id"],
            {
                "contacts_id": rows["contact_id"][kept],
                "customer_id": rows["customer_id"][kept],
                "name": rows["name"][kept],
                "post": rows["title"][kept],
                "email": rows["email"][kept],
                "mobile": rows["phone"][kept],
                "telephone": np.full(int(kept.sum()), None, dtype=object),
                "create_time": self.local(rows["created_at"][kept]),
                "update_time": self.local(rows["updated_at"][kept]),
            },
        )

    def opportunities(self) -> None:
        rows = self.changed(
            "opportunities",
            [
                "opportunity_id",
                "customer_id",
                "owner_user_id",
                "name",
                "stage",
                "amount",
                "expected_close_date",
                "status",
                "loss_reason",
                "created_at",
                "closed_at",
                "is_deleted",
                "updated_at",
            ],
        )
        ids = rows["opportunity_id"]
        history = self.of_ids(
            "opportunity_stage_history",
            ["opportunity_id", "from_stage", "to_stage", "changed_at", "history_id", "changed_by_user_id"],
            "opportunity_id",
            ids,
        )
        creator, last_open = _creators_and_last_open_stages(history, ids)
        status = rows["status"]
        unknown = [(int(i), s) for i, s in zip(ids.tolist(), status.tolist()) if s not in IS_END]
        if unknown:
            raise ValueError(
                f"opportunities {unknown[0][0]}: status {unknown[0][1]!r} has no 悟空CRM is_end "
                f"(rule: open 0, won 1, lost 2); {len(unknown)} such row(s)"
            )
        is_open = status == "open"
        stage_id = np.where(is_open, _stage_ids("opportunities", ids, rows["stage"], is_open), last_open)
        self.replace(
            "wk_crm_business",
            ids,
            {
                "business_id": ids,
                "type_id": _constant(len(ids), STAGE_GROUP_ID),
                "status_id": stage_id,
                "customer_id": rows["customer_id"],
                "business_name": rows["name"],
                "money": rows["amount"],
                "deal_date": _midnight(rows["expected_close_date"]),
                "is_end": np.array([IS_END[s] for s in status.tolist()], dtype=np.int64),
                "status_remark": np.where(status == "lost", rows["loss_reason"], None),
                "status": np.where(rows["is_deleted"], DELETED_RECORD, ACTIVE_RECORD).astype(np.int64),
                "create_user_id": np.where(creator == NULL, rows["owner_user_id"], creator),
                "owner_user_id": rows["owner_user_id"],
                "create_time": self.local(rows["created_at"]),
                "update_time": self.local(rows["updated_at"]),
            },
        )
        closed = ~is_open & (rows["closed_at"] != NULL)
        self.replace(
            "wk_crm_activity",
            CLOSING_NOTE_IDS + ids,
            system_records(
                CLOSING_NOTE_IDS + ids[closed],
                ids[closed],
                _texts([CLOSING_CONTENT[s] for s in status[closed].tolist()]),
                rows["owner_user_id"][closed],
                self.local(rows["closed_at"][closed]),
            ),
        )

    def stage_changes(self) -> None:
        """A change per stage advance after the first stage (none at creation, none at closing), each with
        the type-3 follow-up 悟空CRM writes beside it. History rows are only ever appended."""
        rows = self.changed(
            "opportunity_stage_history",
            ["history_id", "opportunity_id", "from_stage", "to_stage", "changed_at", "changed_by_user_id"],
        )
        to_stage = rows["to_stage"]
        keep = np.array([f is not None for f in rows["from_stage"].tolist()], dtype=bool) & np.isin(
            to_stage, list(OPEN_STAGES)
        )
        ids, deal = rows["history_id"][keep], rows["opportunity_id"][keep]
        at = self.local(rows["changed_at"][keep])
        by = rows["changed_by_user_id"][keep]
        self.replace(
            "wk_crm_business_change",
            ids,
            {
                "change_id": ids,
                "business_id": deal,
                "status_id": _stage_ids("opportunity_stage_history", ids, to_stage[keep], np.ones(len(ids), bool)),
                "create_user_id": by,
                "create_time": at,
            },
        )
        self.replace(
            "wk_crm_activity",
            STAGE_NOTE_IDS + ids,
            system_records(
                STAGE_NOTE_IDS + ids, deal, _texts([f"阶段变更为 {s}" for s in to_stage[keep].tolist()]), by, at
            ),
        )

    def lines(self) -> None:
        rows = self.changed(
            "opportunity_products", ["opportunity_id", "product_id", "quantity", "unit_price", "discount_pct"]
        )
        too_big = rows["product_id"] >= _PRODUCTS_PER_LINE_ID
        if too_big.any():
            raise ValueError(
                f"opportunity_products ({int(rows['opportunity_id'][too_big][0])}, {int(rows['product_id'][too_big][0])}): "
                f"product ids must stay below {_PRODUCTS_PER_LINE_ID} to derive a line's r_id"
            )
        prices = read_table(self.connection, self.contract, "products", ["product_id", "list_price"])
        order = np.argsort(prices["product_id"])
        position = np.clip(np.searchsorted(prices["product_id"][order], rows["product_id"]), 0, max(len(order) - 1, 0))
        list_price = prices["list_price"][order][position] if len(order) else np.full(len(position), np.nan)
        r_id = rows["opportunity_id"] * _PRODUCTS_PER_LINE_ID + rows["product_id"]
        self.replace(
            "wk_crm_business_product",
            r_id,
            {
                "r_id": r_id,
                "business_id": rows["opportunity_id"],
                "product_id": rows["product_id"],
                "price": list_price,
                "sales_price": np.round(rows["unit_price"] * (1 - np.nan_to_num(rows["discount_pct"]) / 100), 2),
                "num": rows["quantity"].astype(np.float64),
            },
        )

    def contracts(self) -> None:
        rows = self.changed(
            "contracts",
            [
                "contract_id",
                "contract_no",
                "opportunity_id",
                "customer_id",
                "owner_user_id",
                "amount",
                "signed_date",
                "start_date",
                "end_date",
                "created_at",
                "is_deleted",
                "updated_at",
            ],
        )
        self.replace(
            "wk_crm_contract",
            rows["contract_id"],
            {
                "contract_id": rows["contract_id"],
                "num": rows["contract_no"],
                "customer_id": rows["customer_id"],
                "business_id": rows["opportunity_id"],
                "check_status": _check_status(rows["is_deleted"]),
                "order_date": _midnight(rows["signed_date"]),
                "start_time": _midnight(rows["start_date"]),
                "end_time": _midnight(rows["end_date"]),
                "money": rows["amount"],
                "owner_user_id": rows["owner_user_id"],
                "create_time": self.local(rows["created_at"]),
                "update_time": self.local(rows["updated_at"]),
            },
        )

    def _customer_of_contracts(self, contract_ids: np.ndarray) -> np.ndarray:
        found = self.of_ids("contracts", ["contract_id", "customer_id"], "contract_id", contract_ids)
        return lookup(found["contract_id"], found["customer_id"], contract_ids)

    def plans(self) -> None:
        """Installments changed, and those a changed payment paid: received_status follows what was paid
        (0 nothing, 1 in full, 2 in part), and update_time the latest of the plan's and its payments' changes."""
        names = ["plan_id", "contract_id", "installment_no", "due_date", "amount", "updated_at"]
        rows = self.changed("payment_plans", names)
        if self.since is not None:
            paid = self.changed("payments", ["plan_id"])["plan_id"]
            more = self.of_ids("payment_plans", names, "plan_id", paid)
            both = {name: np.concatenate([rows[name], more[name]]) for name in names}
            _, first = np.unique(both["plan_id"], return_index=True)
            rows = {name: values[first] for name, values in both.items()}
        ids = rows["plan_id"]
        payments = self.of_ids("payments", ["plan_id", "amount", "is_deleted", "updated_at"], "plan_id", ids)
        counted = ~payments["is_deleted"] & np.isin(payments["plan_id"], ids)
        order = np.argsort(ids, kind="stable")
        position = order[np.searchsorted(ids[order], payments["plan_id"][counted])]
        received = np.zeros(len(ids))
        np.add.at(received, position, payments["amount"][counted])
        latest = rows["updated_at"].copy()
        np.maximum.at(latest, position, payments["updated_at"][counted])
        at = self.local(latest)
        self.replace(
            "wk_crm_receivables_plan",
            ids,
            {
                "receivables_plan_id": ids,
                "num": rows["installment_no"].astype(str).astype(object),
                "contract_id": rows["contract_id"],
                "customer_id": self._customer_of_contracts(rows["contract_id"]),
                "money": rows["amount"],
                "return_date": _midnight(rows["due_date"]),
                "received_status": np.select(
                    [received >= rows["amount"] - 0.005, received > 0], [FULLY_RECEIVED, PARTLY_RECEIVED], 0
                ).astype(np.int64),
                "create_time": self.local(rows["updated_at"]),
                "update_time": at,
            },
        )

    def payments(self) -> None:
        rows = self.changed(
            "payments",
            ["payment_id", "contract_id", "plan_id", "amount", "paid_date", "method", "is_deleted", "updated_at"],
        )
        at = self.local(rows["updated_at"])
        self.replace(
            "wk_crm_receivables",
            rows["payment_id"],
            {
                "receivables_id": rows["payment_id"],
                "receivables_plan_id": rows["plan_id"],
                "contract_id": rows["contract_id"],
                "customer_id": self._customer_of_contracts(rows["contract_id"]),
                "check_status": _check_status(rows["is_deleted"]),
                "return_time": rows["paid_date"],
                "return_type": rows["method"],
                "money": rows["amount"],
                "create_time": at,
                "update_time": at,
            },
        )

    def invoices(self) -> None:
        rows = self.changed(
            "invoices", ["invoice_id", "contract_id", "amount", "issued_date", "is_deleted", "updated_at"]
        )
        at = self.local(rows["updated_at"])
        self.replace(
            "wk_crm_invoice",
            rows["invoice_id"],
            {
                "invoice_id": rows["invoice_id"],
                "contract_id": rows["contract_id"],
                "invoice_money": rows["amount"],
                "invoice_date": rows["issued_date"],
                "real_invoice_date": rows["issued_date"],
                "check_status": _check_status(rows["is_deleted"]),
                "create_time": at,
                "update_time": at,
            },
        )

    def activities(self) -> None:
        rows = self.changed(
            "activities",
            ["activity_id", "customer_id", "opportunity_id", "user_id", "activity_type", "occurred_at", "is_deleted"],
        )
        kept = ~rows["is_deleted"]  # 悟空CRM removes a deleted follow-up
        opportunity = rows["opportunity_id"][kept]
        on_deal = opportunity != NULL
        count = int(kept.sum())
        self.replace(
            "wk_crm_activity",
            rows["activity_id"],
            {
                "activity_id": rows["activity_id"][kept],
                "type": _constant(count, FOLLOW_UP),
                "category": _texts([CATEGORIES.get(t, t) for t in rows["activity_type"][kept].tolist()]),
                "activity_type": np.where(on_deal, ABOUT_OPPORTUNITY, ABOUT_CUSTOMER).astype(np.int64),
                "activity_type_id": np.where(on_deal, opportunity, rows["customer_id"][kept]),
                "content": np.full(count, "跟进客户", dtype=object),
                "status": _constant(count, 1),
                "create_user_id": rows["user_id"][kept],
                "create_time": self.local(rows["occurred_at"][kept]),
            },
        )

    def targets(self) -> None:
        """A row per person, year and kind: the twelve months of the year's targets, 0 for none. A changed
        month rewrites its person-years from every target of theirs."""
        changed = self.changed("sales_targets", ["user_id", "target_month"])
        if not len(changed["user_id"]):
            return
        names = ["user_id", "target_month", *TARGET_KINDS.values()]
        rows = self.of_ids("sales_targets", names, "user_id", changed["user_id"])
        year = _years(rows["target_month"])
        month = _months(rows["target_month"])
        wanted = set(zip(changed["user_id"].tolist(), _years(changed["target_month"]).tolist()))
        pairs = sorted(p for p in set(zip(rows["user_id"].tolist(), year.tolist())) if p in wanted)
        if not pairs:
            return
        user = np.array([u for u, _ in pairs], dtype=np.int64)
        years = np.array([y for _, y in pairs], dtype=np.int64)
        slot = {pair: i for i, pair in enumerate(pairs)}
        parts: dict[str, list[np.ndarray]] = {name: [] for name in wukong_table("wk_crm_achievement").column_names}
        for status, column in TARGET_KINDS.items():
            grid = np.zeros((len(pairs), 12))
            for u, y, m, value in zip(rows["user_id"].tolist(), year.tolist(), month.tolist(), rows[column].tolist()):
                if (u, y) in slot and not np.isnan(value):
                    grid[slot[(u, y)], m - 1] = value
            parts["achievement_id"].append((user * 10_000 + years) * 10 + status)
            parts["obj_id"].append(user)
            parts["type"].append(_constant(len(pairs), PERSON))
            parts["year"].append(years.astype(str).astype(object))
            parts["status"].append(_constant(len(pairs), status))
            for i, name in enumerate(MONTHS):
                parts[name].append(grid[:, i])
        columns = {name: np.concatenate(values) for name, values in parts.items()}
        self.replace("wk_crm_achievement", columns["achievement_id"], columns)

    def visits(self) -> None:
        rows = self.changed(
            "satisfaction_surveys", ["survey_id", "customer_id", "user_id", "score", "surveyed_at", "updated_at"]
        )
        ids = rows["survey_id"]
        unknown = ~np.isin(rows["score"], list(SATISFACTION_WORDS))
        if unknown.any():
            raise ValueError(
                f"satisfaction_surveys {int(ids[unknown][0])}: score {int(rows['score'][unknown][0])} has no "
                f"satisfaction word (rule: {SATISFACTION_WORDS})"
            )
        batch = _texts([f"visit-{i}" for i in ids.tolist()])
        at = self.local(rows["updated_at"])
        self.replace(
            "wk_crm_return_visit",
            ids,
            {
                "visit_id": ids,
                "customer_id": rows["customer_id"],
                "contract_id": ids,  # a compatible survey's id is its contract's
                "owner_user_id": rows["user_id"],
                "visit_time": self.local(rows["surveyed_at"]),
                "batch_id": batch,
                "create_time": at,
                "update_time": at,
            },
        )
        self.replace(
            "wk_crm_return_visit_data",
            ids,
            {
                "id": ids,
                "field_id": _constant(len(ids), 1),
                "name": np.full(len(ids), SATISFACTION_FIELD, dtype=object),
                "value": _texts([SATISFACTION_WORDS[s] for s in rows["score"].tolist()]),
                "batch_id": batch,
                "create_time": at,
            },
        )


def system_records(ids: np.ndarray, deals: np.ndarray, content: np.ndarray, by: np.ndarray, at: np.ndarray) -> Columns:
    """Follow-ups of type 3 that 悟空CRM writes itself on an opportunity (a stage advance, a closing)."""
    count = len(ids)
    return {
        "activity_id": ids,
        "type": _constant(count, SYSTEM_RECORD),
        "category": np.full(count, None, dtype=object),
        "activity_type": _constant(count, ABOUT_OPPORTUNITY),
        "activity_type_id": deals,
        "content": content,
        "status": _constant(count, 1),
        "create_user_id": by,
        "create_time": at,
    }


def _stage_ids(table: str, keys: np.ndarray, stages: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """status_id of each open stage where wanted; a stage the stage group lacks is an error."""
    position = {name: i + 1 for i, name in enumerate(OPEN_STAGES)}
    bad = [(int(k), s) for k, s, w in zip(keys.tolist(), stages.tolist(), wanted.tolist()) if w and s not in position]
    if bad:
        raise ValueError(
            f"{table} {bad[0][0]}: stage {bad[0][1]!r} is not a status of the 悟空CRM stage group "
            f"{list(OPEN_STAGES)}; {len(bad)} such row(s)"
        )
    return np.array(
        [position.get(s, NULL) if w else NULL for s, w in zip(stages.tolist(), wanted.tolist())], dtype=np.int64
    )


def _creators_and_last_open_stages(history: Columns, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per opportunity: who made it (its first history row's changed_by) and the status_id of the last open
    stage it was at (a closed opportunity keeps it in status_id, which the mapping ignores)."""
    order = np.lexsort((history["history_id"], history["changed_at"], history["opportunity_id"]))
    deal = history["opportunity_id"][order]
    first = np.flatnonzero(np.r_[True, deal[1:] != deal[:-1]]) if len(deal) else np.empty(0, np.int64)
    creator = lookup(deal[first], history["changed_by_user_id"][order][first], ids)
    stage = history["to_stage"][order]
    is_open = np.isin(stage, list(OPEN_STAGES))
    open_deal = deal[is_open]
    last = np.flatnonzero(np.r_[open_deal[1:] != open_deal[:-1], True]) if len(open_deal) else np.empty(0, np.int64)
    position = {name: i + 1 for i, name in enumerate(OPEN_STAGES)}
    last_stage = np.array([position[s] for s in stage[is_open][last].tolist()], dtype=np.int64)
    return creator, lookup(open_deal[last], last_stage, ids)


def _check_status(deleted: np.ndarray) -> np.ndarray:
    return np.where(deleted, DELETED, APPROVED).astype(np.int64)


def _years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _months(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def wukong_table_names() -> tuple[str, ...]:
    return tuple(t.name for t in WUKONG_TABLES)
