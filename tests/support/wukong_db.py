"""A small hand-made 悟空CRM database (SQLite), built from crm_wukong's declaration: the source of the extract's,
gate 1's and the source check's tests on the 悟空CRM shape.

Every declared table, each with `rows` rows whose ids point at each other (row i of wk_crm_business belongs to
customer i), codes 悟空CRM writes, and times in local time as 悟空CRM writes them (Asia/Shanghai). Odd rows of an
edited table have never been edited (update_time null), as 悟空CRM leaves them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from crm_contract import Column, SourceTable
from crm_wukong import SOURCE_TABLES, source_table
from simulator.schema import SQL_TYPES

# A local time (悟空CRM's clock); row i is created i hours later.
FIRST_CREATED = datetime(2026, 6, 1, 9, 0)

# Values 悟空CRM writes that the mapping reads, by table and column: row i gets value(i).
_CODES: dict[str, dict[str, Callable[[int], object]]] = {
    "wk_admin_dept": {"pid": lambda i: 0 if i == 1 else 1},
    "wk_admin_user": {"status": lambda i: 1, "is_del": lambda i: 0, "parent_id": lambda i: 0 if i == 1 else 1},
    "wk_crm_customer": {"status": lambda i: 1, "address": lambda i: "广东省,深圳市,南山区"},
    "wk_crm_customer_data": {"name": lambda i: ("industry", "level", "source")[i % 3], "batch_id": lambda i: f"c{i}"},
    "wk_crm_product": {"status": lambda i: 1},
    "wk_crm_product_category": {"pid": lambda i: 0},
    "wk_crm_business_type": {"status": lambda i: 1 if i == 1 else 0},
    "wk_crm_business_status": {"type_id": lambda i: 1, "rate": lambda i: str(10 * (i % 10)), "order_num": lambda i: i},
    "wk_crm_business": {"type_id": lambda i: 1, "is_end": lambda i: i % 4, "status": lambda i: 1},
    "wk_crm_contract": {"check_status": lambda i: (1, 10, 0, 2)[i % 4], "num": lambda i: f"HT-{i:04d}"},
    "wk_crm_receivables_plan": {"received_status": lambda i: i % 5, "num": lambda i: str(i)},
    "wk_crm_receivables": {"check_status": lambda i: 1},
    "wk_crm_invoice": {"check_status": lambda i: 1},
    "wk_crm_activity": {
        "type": lambda i: 1,
        "activity_type": lambda i: 5,
        "status": lambda i: 1,
        "category": lambda i: "打电话",
        "content": lambda i: "约见客户",
    },
    "wk_crm_achievement": {"type": lambda i: 3, "status": lambda i: 1 + i % 2, "year": lambda i: "2026"},
    "wk_crm_return_visit": {"batch_id": lambda i: f"v{i}"},
    "wk_crm_return_visit_data": {
        "name": lambda i: "satisficing",
        "value": lambda i: "满意",
        "batch_id": lambda i: f"v{i}",
    },
}


def wukong_rows(rows: int = 12) -> dict[str, list[dict[str, object]]]:
    """`rows` rows for every declared table, consistent with each other."""
    return {table.name: [_row(table, i) for i in range(1, rows + 1)] for table in SOURCE_TABLES}


def _row(table: SourceTable, i: int) -> dict[str, object]:
    created = FIRST_CREATED + timedelta(hours=i)
    row = {column.name: _value(column, i, created) for column in table.columns}
    if "update_time" in row:
        row["update_time"] = None if i % 2 else created + timedelta(days=1)
    row.update({name: value(i) for name, value in _CODES.get(table.name, {}).items()})
    return row


def _value(column: Column, i: int, created: datetime) -> object:
    if column.type == "integer":
        return i
    if column.type == "money":
        return 100 * i + 0.5
    if column.type == "timestamp":
        return created
    if column.type == "date":
        return date(2026, 6, 1) + timedelta(days=i)
    return f"{column.name}-{i}"


def create_wukong_database(
    target: Path | str,
    rows: Mapping[str, Iterable[Mapping[str, object]]] | None = None,
    *,
    leave_out: Mapping[str, tuple[str, ...] | None] | None = None,
) -> str:
    """Write a 悟空CRM database (wukong_rows() unless `rows` is given) to a SQLite file at `target`, or into the
    empty database of the SQLAlchemy URL `target` (MariaDB); its SQLAlchemy URL.

    leave_out: table → the columns to leave out of it, or None to leave the table out altogether.
    """
    return create_source_database(target, SOURCE_TABLES, wukong_rows() if rows is None else rows, leave_out=leave_out)


def create_source_database(
    target: Path | str,
    tables: Iterable[SourceTable],
    rows: Mapping[str, Iterable[Mapping[str, object]]],
    *,
    leave_out: Mapping[str, tuple[str, ...] | None] | None = None,
) -> str:
    """A source system's `tables`, made with SQLAlchemy from their declaration (the simulator's types), holding
    `rows`, in a SQLite file at `target` or the empty database of the SQLAlchemy URL `target`; its URL.

    leave_out: table → the columns to leave out of it, or None to leave the table out altogether.
    """
    leave_out = leave_out or {}
    url = target if isinstance(target, str) else f"sqlite:///{target}"
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    for table in tables:
        if table.name in leave_out and leave_out[table.name] is None:
            continue
        sa.Table(
            table.name,
            metadata,
            *(
                sa.Column(c.name, SQL_TYPES[c.type], primary_key=c.name in table.primary_key)
                for c in table.columns
                if c.name not in (leave_out.get(table.name) or ())
            ),
        )
    metadata.create_all(engine)
    insert_rows(url, rows, engine=engine)
    engine.dispose()
    return url


def insert_rows(
    url: str, rows: Mapping[str, Iterable[Mapping[str, object]]], *, engine: sa.engine.Engine | None = None
) -> None:
    """Insert (or replace, by key) rows into a database written by create_source_database."""
    own = engine is None
    engine = engine or sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.begin() as con:
        for name, table_rows in rows.items():
            if name not in metadata.tables:  # left out of this database
                continue
            target = metadata.tables[name]
            table_rows = [{k: v for k, v in row.items() if k in target.columns} for row in table_rows]
            if table_rows:
                insert = sa.insert(target)
                con.execute(insert.prefix_with("OR REPLACE") if engine.name == "sqlite" else insert, table_rows)
    if own:
        engine.dispose()


def execute(url: str, sql: str, **parameters: object) -> None:
    """One statement on the 悟空CRM database (an edit, a delete), as the CRM would make it; times are written as
    SQLAlchemy writes them in SQLite (with microseconds), so that SQLite compares them as the other rows'."""
    engine = sa.create_engine(url)
    written = {
        name: value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, datetime) and engine.name == "sqlite"
        else value
        for name, value in parameters.items()
    }
    with engine.begin() as con:
        con.execute(sa.text(sql), written)
    engine.dispose()


__all__ = [
    "FIRST_CREATED",
    "create_source_database",
    "create_wukong_database",
    "execute",
    "insert_rows",
    "source_table",
    "wukong_rows",
]
