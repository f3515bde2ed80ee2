"""The CRM tables as SQLAlchemy objects, built from crm_contract so the two cannot drift apart.

No primary-key or unique constraints: real CRM replicas hold duplicate keys and the duplicate-rows
defect must be able to write them. A plain index on the key and one on updated_at (the extract's
watermark) serve the same queries.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

from crm_contract import SOURCE_TABLES, SourceTable

STATE_TABLE = "_simulator_state"

# String rather than Text: MySQL cannot index a TEXT column (marketing_spend.channel is a key).
SQL_TYPES: dict[str, TypeEngine] = {
    "integer": BigInteger(),
    "text": String(255),
    "money": Numeric(18, 2),
    "rate": Numeric(18, 8),
    "percent": Numeric(7, 4),
    "date": Date(),
    "timestamp": DateTime(),
    "boolean": Boolean(),
}

# Which table an id column points at; a table's own key is not a foreign key.
_REFERENCED_BY_COLUMN: dict[str, str] = {
    "department_id": "departments",
    "parent_department_id": "departments",
    "user_id": "users",
    "manager_user_id": "users",
    "owner_user_id": "users",
    "changed_by_user_id": "users",
    "customer_id": "customers",
    "product_id": "products",
    "opportunity_id": "opportunities",
    "contract_id": "contracts",
    "plan_id": "payment_plans",
}
# Foreign keys that domain.md allows to be null; a null anywhere else is a defect.
NULLABLE_FOREIGN_KEYS: frozenset[tuple[str, str]] = frozenset(
    {
        ("departments", "parent_department_id"),
        ("users", "manager_user_id"),
        ("customers", "owner_user_id"),
        ("contracts", "opportunity_id"),
        ("payments", "plan_id"),
        ("activities", "opportunity_id"),
        ("satisfaction_surveys", "product_id"),
    }
)


def foreign_keys(table: SourceTable) -> dict[str, str]:
    """Column -> referenced table, for the id columns of table that are not its own key."""
    own_key = table.primary_key if len(table.primary_key) == 1 else ()
    return {
        column: _REFERENCED_BY_COLUMN[column]
        for column in table.column_names
        if column in _REFERENCED_BY_COLUMN and column not in own_key
    }


def build_metadata() -> MetaData:
    metadata = MetaData()
    for table in SOURCE_TABLES:
        Table(table.name, metadata, *(Column(c.name, SQL_TYPES[c.type]) for c in table.columns))
    Table(STATE_TABLE, metadata, Column("key", String(64)), Column("value", Text()))
    return metadata


def create_indexes(connection: Connection, metadata: MetaData) -> None:
    """Created after the bulk load, which is several times faster than maintaining them row by row."""
    for table in SOURCE_TABLES:
        sql_table = metadata.tables[table.name]
        Index(f"ix_{table.name}_key", *(sql_table.c[c] for c in table.primary_key)).create(connection)
        Index(f"ix_{table.name}_updated_at", sql_table.c.updated_at).create(connection)


def existing_tables(connection: Connection) -> list[str]:
    names = set(inspect(connection).get_table_names())
    return [name for name in (*(t.name for t in SOURCE_TABLES), STATE_TABLE) if name in names]
