"""SQL for what gate 1 looks at: a table "after the merge", computed in the warehouse without merging anything.

The merge step replaces raw rows whose key is in the batch and keeps the rest; a full refresh replaces the
whole table. Table-level rules (uniqueness, volume, freshness) and foreign keys must see the table as it
will be, so they read this projection, never a copy.
"""

from __future__ import annotations

import re

from crm_contract import SourceTable
from orchestration.incremental_load import LANDING_SCHEMA
from orchestration.raw_schema import LOAD_ID_COLUMN, LOADED_AT_COLUMN, RAW_SCHEMA
from orchestration.source_system import any_table

# In a suite's SQL, `after_merge.<table>` stands for this projection of <table>.
_AFTER_MERGE_REFERENCE = re.compile(r"\bafter_merge\.([a-z_]+)\b")


def landing_sql(table: SourceTable) -> str:
    return f"select * from {LANDING_SCHEMA}.{table.name}"


def after_merge_sql(table: SourceTable, *, full_refresh: bool) -> str:
    """raw.<table> as the pending merge will leave it: the batch replaces the rows with its keys."""
    batch = f"{LANDING_SCHEMA}.{table.name}"
    if full_refresh:
        return landing_sql(table)
    key_match = " and ".join(f'batch."{k}" = merged."{k}"' for k in table.primary_key)
    columns = ", ".join(f'"{c}"' for c in [*table.column_names, LOAD_ID_COLUMN, LOADED_AT_COLUMN])
    return (
        f"select {columns} from {RAW_SCHEMA}.{table.name} as merged "
        f"where not exists (select 1 from {batch} as batch where {key_match}) "
        f"union all select {columns} from {batch}"
    )


def expand_after_merge(sql: str, full_refresh_tables: frozenset[str]) -> str:
    """Replace every `after_merge.<table>` in a suite's SQL with the projection, as a subquery named <table>.

    full_refresh_tables: the tables whose pending batch replaces the whole table.
    """

    def projection(match: re.Match[str]) -> str:
        table = any_table(match.group(1))
        # quoted: Salesforce's `user` is a reserved word in Postgres (a table alias may not be one)
        return f'({after_merge_sql(table, full_refresh=table.name in full_refresh_tables)}) as "{table.name}"'

    return _AFTER_MERGE_REFERENCE.sub(projection, sql)


def in_schemas(sql: str, schemas: dict[str, str]) -> str:
    """A mart suite's SQL names other marts as `marts.<model>` (and `snapshots.<snapshot>`); read them where the
    target keeps them before publishing: {"marts": "marts_next"} on Postgres (WarehouseResource.relation_schemas)."""
    for schema, actual in schemas.items():
        if actual != schema:
            sql = re.sub(rf"\b{schema}\.(?=[a-z_]+\b)", f"{actual}.", sql)
    return sql
