"""Tables, primary keys and column types of the CRM operational database (domain.md §1)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

# Logical types; each engine maps them to its own (SQLAlchemy in the simulator, DuckDB in extract).
ColumnType = Literal["integer", "text", "money", "rate", "percent", "date", "timestamp", "boolean"]


@dataclass(frozen=True)
class Column:
    """`optional`: a source may lack the column (Salesforce's currency_iso_code, only in multi-currency orgs); the
    source check does not require it and raw gets it null."""

    name: str
    type: ColumnType
    optional: bool = False


@dataclass(frozen=True)
class SourceTable:
    """One table of a source system as the extract copies it into raw.

    `watermark` names the columns whose coalesce orders a row's versions and drives the incremental read (the
    contract's `updated_at`; 悟空CRM's `update_time, create_time`); an empty tuple means the table has no such
    column and is read whole on every run (a full refresh, which also finds the rows the CRM hard-deleted).

    `optional`: a source may lack the whole table (Salesforce's forecasting_quota, synced only when the org uses it);
    raw then gets it empty and the run says so, instead of stopping.
    """

    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    watermark: tuple[str, ...] = ("updated_at",)
    optional: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def has_soft_delete(self) -> bool:
        return "is_deleted" in self.column_names

    def watermark_in(self, present: Collection[str]) -> tuple[str, ...]:
        """The watermark columns a source table having the columns `present` has, in order. A watermark column may be
        optional (Salesforce's `_fivetran_synced`, with `system_modstamp` after it for a sync without that column):
        the table is then read on those present, and must have at least one (the source check says so)."""
        return tuple(name for name in self.watermark if name in present)


def _table(name: str, primary_key: tuple[str, ...], *columns: tuple[str, ColumnType]) -> SourceTable:
    """Every table ends with updated_at, the extract layer's high-watermark."""
    return SourceTable(
        name=name,
        primary_key=primary_key,
        columns=tuple(Column(n, t) for n, t in columns) + (Column("updated_at", "timestamp"),),
    )


SOURCE_TABLES: tuple[SourceTable, ...] = (
    _table(
        "departments",
        ("department_id",),
        ("department_id", "integer"),
        ("name", "text"),
        ("parent_department_id", "integer"),
    ),
    _table(
        "users",
        ("user_id",),
        ("user_id", "integer"),
        ("name", "text"),
        ("email", "text"),
        ("department_id", "integer"),
        ("manager_user_id", "integer"),
        ("region", "text"),
        ("hired_at", "timestamp"),
        ("is_active", "boolean"),
    ),
    _table(
        "customers",
        ("customer_id",),
        ("customer_id", "integer"),
        ("name", "text"),
        ("industry", "text"),
        ("city", "text"),
        ("province", "text"),
        ("region", "text"),
        ("level", "text"),
        ("source", "text"),
        ("owner_user_id", "integer"),
        ("created_at", "timestamp"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "contacts",
        ("contact_id",),
        ("contact_id", "integer"),
        ("customer_id", "integer"),
        ("name", "text"),
        ("title", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("created_at", "timestamp"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "products",
        ("product_id",),
        ("product_id", "integer"),
        ("name", "text"),
        ("category", "text"),
        ("list_price", "money"),
        ("is_active", "boolean"),
    ),
    _table(
        "opportunities",
        ("opportunity_id",),
        ("opportunity_id", "integer"),
        ("customer_id", "integer"),
        ("owner_user_id", "integer"),
        ("name", "text"),
        ("source", "text"),
        ("stage", "text"),
        ("amount", "money"),
        ("currency", "text"),
        ("expected_close_date", "date"),
        ("status", "text"),
        ("loss_reason", "text"),
        ("created_at", "timestamp"),
        ("closed_at", "timestamp"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "opportunity_products",
        ("opportunity_id", "product_id"),
        ("opportunity_id", "integer"),
        ("product_id", "integer"),
        ("quantity", "integer"),
        ("unit_price", "money"),
        ("discount_pct", "percent"),
    ),
    _table(
        "opportunity_stage_history",
        ("history_id",),
        ("history_id", "integer"),
        ("opportunity_id", "integer"),
        ("from_stage", "text"),
        ("to_stage", "text"),
        ("changed_at", "timestamp"),
        ("changed_by_user_id", "integer"),
    ),
    _table(
        "contracts",
        ("contract_id",),
        ("contract_id", "integer"),
        ("contract_no", "text"),
        ("opportunity_id", "integer"),
        ("customer_id", "integer"),
        ("owner_user_id", "integer"),
        ("amount", "money"),
        ("currency", "text"),
        ("signed_date", "date"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("status", "text"),
        ("created_at", "timestamp"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "payment_plans",
        ("plan_id",),
        ("plan_id", "integer"),
        ("contract_id", "integer"),
        ("installment_no", "integer"),
        ("due_date", "date"),
        ("amount", "money"),
    ),
    _table(
        "payments",
        ("payment_id",),
        ("payment_id", "integer"),
        ("contract_id", "integer"),
        ("plan_id", "integer"),
        ("amount", "money"),
        ("paid_date", "date"),
        ("method", "text"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "invoices",
        ("invoice_id",),
        ("invoice_id", "integer"),
        ("contract_id", "integer"),
        ("amount", "money"),
        ("issued_date", "date"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "activities",
        ("activity_id",),
        ("activity_id", "integer"),
        ("customer_id", "integer"),
        ("opportunity_id", "integer"),
        ("user_id", "integer"),
        ("activity_type", "text"),
        ("occurred_at", "timestamp"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "sales_targets",
        ("user_id", "target_month"),
        ("user_id", "integer"),
        ("target_month", "date"),
        ("contract_amount_target", "money"),
        ("payment_amount_target", "money"),
        ("new_customer_target", "integer"),
    ),
    _table(
        "marketing_spend",
        ("channel", "spend_month"),
        ("channel", "text"),
        ("spend_month", "date"),
        ("amount", "money"),
        ("currency", "text"),
    ),
    _table(
        "satisfaction_surveys",
        ("survey_id",),
        ("survey_id", "integer"),
        ("customer_id", "integer"),
        ("product_id", "integer"),
        ("user_id", "integer"),
        ("score", "integer"),
        ("surveyed_at", "timestamp"),
    ),
    _table(
        "fx_rates",
        ("currency", "rate_date"),
        ("currency", "text"),
        ("rate_date", "date"),
        ("rate_to_reporting", "rate"),
    ),
)


def find_table(tables: tuple[SourceTable, ...], name: str, what: str) -> SourceTable:
    """The table called `name` among a system's `tables`; a KeyError naming `what` they are and the choices."""
    for table in tables:
        if table.name == name:
            return table
    raise KeyError(f"{name!r} is not {what}; expected one of {sorted(table.name for table in tables)}")


def source_table(name: str) -> SourceTable:
    return find_table(SOURCE_TABLES, name, "a CRM source table")
