"""Hand-made raw data for dbt tests: write a few rows per table into a fresh warehouse file.

Tables not given are created empty, so `dbt build` sees the full raw schema as the extract leaves it. Rows given
twice for a key are collapsed the way the extract lands them (the newest updated_at wins, with the loader's own
query): raw holds one row per key, and staging relies on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from crm_contract import SOURCE_TABLES
from orchestration.duckdb_raw import typed_batch_query
from orchestration.raw_schema import LOAD_ID_COLUMN, LOADED_AT_COLUMN, RAW_SCHEMA, raw_table_ddl

FIXTURE_LOADED_AT = datetime(2025, 1, 1)


def write_raw_tables(warehouse_path: Path, rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Create every raw table and insert the given rows; omitted columns are null (updated_at defaults)."""
    unknown = set(rows_by_table) - {t.name for t in SOURCE_TABLES}
    if unknown:
        raise KeyError(f"not CRM source tables: {sorted(unknown)}")
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        for table in SOURCE_TABLES:
            con.execute(raw_table_ddl(table))
            for row in rows_by_table.get(table.name, ()):
                extra = set(row) - set(table.column_names)
                if extra:
                    raise KeyError(f"{table.name}: unknown columns {sorted(extra)}")
                values = {"updated_at": FIXTURE_LOADED_AT, **row}
                names = list(values) + [LOAD_ID_COLUMN, LOADED_AT_COLUMN]
                params = list(values.values()) + ["fixture", FIXTURE_LOADED_AT]
                column_list = ", ".join(f'"{n}"' for n in names)
                placeholders = ", ".join("?" for _ in names)
                con.execute(f"INSERT INTO {RAW_SCHEMA}.{table.name} ({column_list}) VALUES ({placeholders})", params)
            con.execute(f"CREATE OR REPLACE TEMP TABLE given_rows AS SELECT * FROM {RAW_SCHEMA}.{table.name}")
            con.execute(f"DELETE FROM {RAW_SCHEMA}.{table.name}")
            con.execute(
                f"INSERT INTO {RAW_SCHEMA}.{table.name} BY NAME {typed_batch_query(table, 'given_rows')}",
                ["fixture", FIXTURE_LOADED_AT],
            )
