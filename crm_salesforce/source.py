"""Tables, keys, watermarks and the mapped columns of a Salesforce org synced by Fivetran (snake_case objects).

Every synced table carries `_fivetran_synced` (when the sync last wrote the row: the watermark, so a row the org
edits is read again on the next run) and `_fivetran_deleted` (the sync's soft delete, set when a record leaves
the org, including a hard delete or a purge from the recycle bin). A table synced without `_fivetran_synced` (a sync
configured without it, or another tool) is read on Salesforce's own `system_modstamp` instead: the watermark is
`coalesce(_fivetran_synced, system_modstamp)`, both columns optional, and the source check stops a run on a table
that has neither. A sync without `_fivetran_deleted` flags no deletions (raw keeps it null: not deleted). Most objects also have Salesforce's own
`is_deleted` (in the recycle bin). Both kinds of deleted rows stay in raw as the sync wrote them; the dbt mapping
drops them. Because the sync never removes a row, no table needs a whole read to notice deletions.

Ids are Salesforce's 18-character, case-insensitive-safe ids (text); the dbt mapping derives the contract's
integer keys from them (macro source_id_key). Timestamps are UTC, as Fivetran writes them.
"""

from __future__ import annotations

from dataclasses import replace

from crm_contract.source import Column, ColumnType, SourceTable, find_table

# The watermark: the sync's write time, else Salesforce's SystemModstamp (a table synced without the sync's column).
SYNCED = ("_fivetran_synced", "system_modstamp")
# The sync's own columns, and SystemModstamp, on every table.
SYNC_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("_fivetran_synced", "timestamp"),
    ("_fivetran_deleted", "boolean"),
    ("system_modstamp", "timestamp"),
)


# Salesforce's key prefix of each object: the first three characters of every id of that object (006 an
# opportunity, 001 an account, ...). The mapping reads an activity's what_id as an opportunity by its prefix.
KEY_PREFIXES: dict[str, str] = {
    "user_role": "00E",
    "user": "005",
    "account": "001",
    "contact": "003",
    "product_2": "01t",
    "opportunity_stage": "01J",
    "opportunity": "006",
    "opportunity_history": "008",
    "opportunity_line_item": "00k",
    "task": "00T",
    "event": "00U",
    "currency_type": "02c",
    "dated_conversion_rate": "04w",
    "forecasting_quota": "0J9",
}


# A multi-currency org's currencies, with Salesforce's own rates. Not synced, or empty: a single-currency org, whose
# amounts are in CRM_SOURCE_CURRENCY (the mapping's corporate currency then) and whose rates only a file drop brings.
ORG_CURRENCIES_TABLE = "currency_type"


# Columns a synced table may lack (single-currency orgs have no currency_iso_code; a sync may lack its own columns,
# the watermark then being system_modstamp): the mapping reads them as null.
OPTIONAL_COLUMNS = frozenset({"currency_iso_code", *(name for name, _ in SYNC_COLUMNS)})


def _table(name: str, *columns: tuple[str, ColumnType], optional: bool = False) -> SourceTable:
    return SourceTable(
        name=name,
        primary_key=("id",),
        columns=tuple(Column(n, t, optional=n in OPTIONAL_COLUMNS) for n, t in (*columns, *SYNC_COLUMNS)),
        watermark=SYNCED,
        optional=optional,
    )


SOURCE_TABLES: tuple[SourceTable, ...] = (
    _table(
        "user_role",  # a node of the role hierarchy: the departments
        ("id", "text"),
        ("name", "text"),
        ("parent_role_id", "text"),
    ),
    _table(
        "user",
        ("id", "text"),
        ("name", "text"),
        ("email", "text"),
        ("user_role_id", "text"),
        ("manager_id", "text"),
        ("division", "text"),  # the region
        ("is_active", "boolean"),
        ("created_date", "timestamp"),
    ),
    _table(
        "account",  # a customer
        ("id", "text"),
        ("name", "text"),
        ("industry", "text"),
        ("billing_city", "text"),
        ("billing_state", "text"),
        ("billing_country", "text"),
        ("rating", "text"),  # Hot, Warm, Cold: the level
        ("account_source", "text"),
        ("owner_id", "text"),
        ("is_deleted", "boolean"),
        ("created_date", "timestamp"),
        ("last_modified_date", "timestamp"),
    ),
    _table(
        "contact",
        ("id", "text"),
        ("name", "text"),
        ("title", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("account_id", "text"),
        ("is_deleted", "boolean"),
        ("created_date", "timestamp"),
    ),
    _table(
        "product_2",  # Product2, the product object
        ("id", "text"),
        ("name", "text"),
        ("family", "text"),  # the category
        ("is_active", "boolean"),
        ("is_deleted", "boolean"),
        ("created_date", "timestamp"),
    ),
    _table(
        "opportunity_stage",  # the org's stage picklist with its metadata: the active rows are the catalogue
        ("id", "text"),
        ("api_name", "text"),  # the value opportunity.stage_name holds
        ("master_label", "text"),
        ("sort_order", "integer"),
        ("default_probability", "rate"),  # a percentage, 0-100
        ("is_active", "boolean"),
        ("is_closed", "boolean"),
        ("is_won", "boolean"),
    ),
    _table(
        "opportunity",
        ("id", "text"),
        ("name", "text"),
        ("account_id", "text"),
        ("owner_id", "text"),
        ("lead_source", "text"),
        ("stage_name", "text"),
        ("amount", "money"),
        # Only in multi-currency orgs (optional: a single-currency org's raw gets it null, read as the corporate
        # currency).
        ("currency_iso_code", "text"),
        ("close_date", "date"),
        ("is_closed", "boolean"),
        ("is_won", "boolean"),
        ("is_deleted", "boolean"),
        ("created_date", "timestamp"),
        ("last_modified_date", "timestamp"),
    ),
    _table(
        "opportunity_history",  # one row per change of stage, amount, probability or close date
        ("id", "text"),
        ("opportunity_id", "text"),
        ("stage_name", "text"),
        ("amount", "money"),
        ("close_date", "date"),
        ("probability", "rate"),
        ("created_date", "timestamp"),
        ("is_deleted", "boolean"),
    ),
    _table(
        "opportunity_line_item",
        ("id", "text"),
        ("opportunity_id", "text"),
        ("product_2_id", "text"),
        ("quantity", "rate"),  # Salesforce's quantity is a decimal
        ("unit_price", "money"),
        ("discount", "rate"),  # a percentage; null means none
        ("is_deleted", "boolean"),
        ("created_date", "timestamp"),
    ),
    _table(
        "task",
        ("id", "text"),
        ("account_id", "text"),
        ("what_id", "text"),  # the record it is about: an opportunity when the id starts with 006
        ("who_id", "text"),  # a contact or lead
        ("owner_id", "text"),
        ("subject", "text"),
        ("task_subtype", "text"),  # Call, Email, Task, ...
        ("activity_date", "date"),
        ("is_deleted", "boolean"),
        ("created_date", "timestamp"),
    ),
    _table(
        "event",
        ("id", "text"),
        ("account_id", "text"),
        ("what_id", "text"),
        ("who_id", "text"),
        ("owner_id", "text"),
        ("subject", "text"),
        ("event_subtype", "text"),
        ("activity_date", "date"),
        ("activity_date_time", "timestamp"),  # null for an all-day event
        ("is_deleted", "boolean"),
        ("created_date", "timestamp"),
    ),
    _table(
        "dated_conversion_rate",  # advanced currency management: a rate per period
        ("id", "text"),
        ("iso_code", "text"),
        ("conversion_rate", "rate"),  # units of iso_code per unit of the corporate currency
        ("start_date", "date"),
        ("next_start_date", "date"),  # exclusive; Salesforce writes 9999-12-31 for the open period
        optional=True,
    ),
    _table(
        "currency_type",  # the org's currencies: one rate each, the corporate one flagged
        ("id", "text"),
        ("iso_code", "text"),
        ("conversion_rate", "rate"),
        ("is_corporate", "boolean"),
        ("is_active", "boolean"),
        optional=True,
    ),
    _table(
        "forecasting_quota",  # Collaborative Forecasts' quotas, when the org uses them and the sync has the object
        ("id", "text"),
        ("quota_owner_id", "text"),
        ("start_date", "date"),  # the first day of the quota's period (a month)
        ("quota_amount", "money"),
        ("currency_iso_code", "text"),
        optional=True,
    ),
)

OPTIONAL_TABLES: tuple[str, ...] = tuple(table.name for table in SOURCE_TABLES if table.optional)


def source_table(name: str) -> SourceTable:
    return find_table(SOURCE_TABLES, name, "a Salesforce table the extract reads")


def with_loss_reason_field(field: str) -> tuple[SourceTable, ...]:
    """SOURCE_TABLES with `field`, the org's custom loss-reason column (CRM_SALESFORCE_LOSS_REASON_FIELD), declared
    on opportunity: Salesforce has no standard one, so each org names its own."""
    return tuple(
        replace(table, columns=(*table.columns, Column(field, "text"))) if table.name == "opportunity" else table
        for table in SOURCE_TABLES
    )
