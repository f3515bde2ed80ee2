"""The warehouse's `raw` and `landing` schemas: one table per CRM source table, typed as the contract says, and
the loader's bookkeeping tables (orchestration/incremental_load.py).

Each raw table holds the source columns plus the two bookkeeping columns every extracted row carries. The DDL is
plain SQL that DuckDB and Postgres both run.
"""

from __future__ import annotations

from crm_contract import Column, SourceTable

RAW_SCHEMA = "raw"
LANDING_SCHEMA = "landing"
BATCHES_TABLE = f"{LANDING_SCHEMA}._batches"
EXTRACT_STATE_TABLE = f"{RAW_SCHEMA}._extract_state"
HARD_DELETES_TABLE = f"{RAW_SCHEMA}._hard_deletes"
LOAD_ID_COLUMN = "_load_id"
LOADED_AT_COLUMN = "_loaded_at"

_DUCKDB_TYPES = {
    "integer": "BIGINT",
    "text": "VARCHAR",
    "money": "DECIMAL(18,2)",
    "rate": "DECIMAL(18,8)",
    "percent": "DECIMAL(7,4)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


def duckdb_type(column: Column) -> str:
    return _DUCKDB_TYPES[column.type]


def watermark_sql(table: SourceTable, relation: str | None = None) -> str | None:
    """A row's watermark as SQL (DuckDB, Postgres, SQLite and MySQL alike): the coalesce of the table's declared
    watermark columns, each optionally qualified by `relation`; None for a table read whole on every run.

    The contract's is plain `"updated_at"`; 悟空CRM's `coalesce("update_time", "create_time")`, because 悟空CRM
    leaves update_time null until a record is first edited.
    """
    columns = [f'{relation}."{name}"' if relation else f'"{name}"' for name in table.watermark]
    if not columns:
        return None
    return columns[0] if len(columns) == 1 else f"coalesce({', '.join(columns)})"


def watermark_label(table: SourceTable) -> str:
    """How messages name a table's watermark: `updated_at`, or `coalesce(update_time, create_time)`."""
    return table.watermark[0] if len(table.watermark) == 1 else f"coalesce({', '.join(table.watermark)})"


def raw_table_ddl(table: SourceTable, *, name: str | None = None) -> str:
    """CREATE TABLE for a raw table (or a same-shaped staging table when `name` is given)."""
    columns = [f'"{c.name}" {duckdb_type(c)}' for c in table.columns]
    columns += [f"{LOAD_ID_COLUMN} VARCHAR NOT NULL", f"{LOADED_AT_COLUMN} TIMESTAMP NOT NULL"]
    target = name or f"{RAW_SCHEMA}.{table.name}"
    return f"CREATE TABLE IF NOT EXISTS {target} (\n    " + ",\n    ".join(columns) + "\n)"


def ensure_schemas(con) -> None:
    """The raw and landing schemas and the loader's bookkeeping tables; `con` runs one statement (DuckDB's
    connection or a SqlSession)."""
    for schema in (RAW_SCHEMA, LANDING_SCHEMA):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {EXTRACT_STATE_TABLE} ("
        "table_name VARCHAR PRIMARY KEY, watermark TIMESTAMP, load_id VARCHAR, loaded_at TIMESTAMP)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {HARD_DELETES_TABLE} ("
        "table_name VARCHAR, primary_key VARCHAR, detected_at TIMESTAMP, load_id VARCHAR)"
    )
    # One row per table: its last landed batch. rows_read is the count of rows read from the source for it, kept
    # with the batch for gate 1's source_keys_unique (copies of a key collapse on landing).
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BATCHES_TABLE} (table_name VARCHAR PRIMARY KEY, load_id VARCHAR, "
        "mode VARCHAR, landed_at TIMESTAMP, max_updated_at TIMESTAMP, merged_at TIMESTAMP, rows_read BIGINT)"
    )
    con.execute(f"ALTER TABLE {BATCHES_TABLE} ADD COLUMN IF NOT EXISTS rows_read BIGINT")  # a warehouse from before
