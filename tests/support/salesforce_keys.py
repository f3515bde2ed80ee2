"""The contract record of a simulated Salesforce database, keyed as the Salesforce mapping keys it.

A database from `crm-simulator generate --system salesforce` holds the synced tables and, beside them, the contract
record of the same business, whose ids are the simulator's own (1, 2, 3, ...). The mapping derives the contract's
integer keys from the 18-character ids instead (dbt macro source_id_key: the first 15 hex digits of md5(id)). To
compare the two shapes' published marts row for row, `keyed_as_salesforce` writes the contract record into its own
SQLite file with every id replaced by the key the mapping derives from the synced row it became.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from crm_contract import SOURCE_TABLES
from simulator.salesforce import salesforce_ids


def source_id_key(salesforce_id: str | None) -> int | None:
    """dbt's source_id_key in Python: the first 15 hex digits of md5(id), as an integer."""
    if salesforce_id is None or not salesforce_id.strip():
        return None
    return int(hashlib.md5(salesforce_id.strip().encode()).hexdigest()[:15], 16)


def key_of(salesforce_object: str) -> Callable[[int | None], int | None]:
    def key(number: int | None) -> int | None:
        return None if number is None else source_id_key(salesforce_ids(salesforce_object, [number])[0])

    return key


# Which Salesforce object each id column's values became (a table's own key first).
ID_OBJECTS: dict[str, str] = {
    "department_id": "user_role",
    "parent_department_id": "user_role",
    "user_id": "user",
    "manager_user_id": "user",
    "owner_user_id": "user",
    "changed_by_user_id": "user",
    "customer_id": "account",
    "contact_id": "contact",
    "product_id": "product_2",
    "opportunity_id": "opportunity",
    "contract_id": "opportunity",  # a contract is its won opportunity
    "history_id": "opportunity_history",
}


def _activity_key(row: dict) -> int:
    return key_of("event" if row["activity_type"] == "event" else "task")(row["activity_id"])


def keyed_as_salesforce(source: Path, target: Path) -> Path:
    """Writes the contract tables of the Salesforce database at source into a new SQLite file at target (replaced if
    present), with the ids the Salesforce mapping derives."""
    target.unlink(missing_ok=True)
    keys = {column: key_of(name) for column, name in ID_OBJECTS.items()}
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.row_factory = sqlite3.Row
        for table in SOURCE_TABLES:
            (ddl,) = reading.execute("select sql from sqlite_master where name = ?", [table.name]).fetchone()
            writing.execute(ddl)
            rows = [dict(row) for row in reading.execute(f'select * from "{table.name}"')]
            for row in rows:
                keyed = {c: keys[c](v) for c, v in row.items() if c in keys}
                if table.name == "activities":
                    keyed["activity_id"] = _activity_key(row)
                row.update(keyed)
            if rows:
                columns = list(rows[0])
                writing.executemany(
                    f'insert into "{table.name}" ({", ".join(columns)}) values ({", ".join("?" * len(columns))})',
                    [tuple(row[c] for c in columns) for row in rows],
                )
    return target
