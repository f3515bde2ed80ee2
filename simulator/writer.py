"""Moves columns of numbers between the simulator and a database.

Columns follow the encoding of timeline.py: integers, days and seconds as int64 with NULL for a
missing value, money and rates as float64 with NaN, booleans as bool, text as object arrays with None.
SQLite gets a fast path (sqlite3 executemany) that stores exactly what SQLAlchemy's SQLite dialect
would: 'YYYY-MM-DD HH:MM:SS.ffffff' for DateTime, 'YYYY-MM-DD' for Date, 0/1 for Boolean, REAL for
Numeric, so reading back through SQLAlchemy gives datetime, date, bool and Decimal objects. Every
other engine goes through SQLAlchemy Core.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from functools import cache

import numpy as np
from sqlalchemy import MetaData, and_, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from crm_contract import SourceTable, source_table
from simulator.timeline import DAY, NULL

Columns = dict[str, np.ndarray]
_ROWS_PER_STATEMENT = 50_000


@cache
def _clock_texts() -> np.ndarray:
    """'HH:MM:SS.000000' for every second of a day, built once: formatting by lookup is ~20x faster."""
    return np.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(DAY)], dtype=object)


def _day_texts(days: np.ndarray) -> tuple[np.ndarray, int]:
    first, last = int(days.min()), int(days.max())
    texts = np.datetime_as_string(np.arange(first, last + 1).astype("datetime64[D]")).astype(object)
    return texts, first


def _sqlite_values(kind: str, values: np.ndarray) -> list:
    if kind in ("timestamp", "date"):
        missing = values == NULL
        out = np.full(values.shape, None, dtype=object)
        present = values[~missing]
        if present.size:
            days = present // DAY if kind == "timestamp" else present
            texts, first = _day_texts(days)
            out[~missing] = texts[days - first] + (
                " " + _clock_texts()[present - days * DAY] if kind == "timestamp" else ""
            )
        return out.tolist()
    return _python_values(kind, values)


def _python_values(kind: str, values: np.ndarray) -> list:
    if kind == "integer":
        if (values == NULL).any():
            out = values.astype(object)
            out[values == NULL] = None
            return out.tolist()
        return values.tolist()
    if kind in ("money", "rate", "percent"):
        if np.isnan(values).any():
            out = values.astype(object)
            out[np.isnan(values)] = None
            return out.tolist()
        return values.tolist()
    if kind == "timestamp":
        return values.view("datetime64[s]").astype(object).tolist()
    if kind == "date":
        return values.view("datetime64[D]").astype(object).tolist()
    return values.tolist()  # boolean and text are already Python-ready


def from_python(kind: str, values: list) -> np.ndarray:
    """The inverse of the writer's encoding, for rows read back through SQLAlchemy."""
    if kind == "integer":
        return np.array([NULL if v is None else v for v in values], dtype=np.int64)
    if kind in ("money", "rate", "percent"):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if kind == "timestamp":
        return np.array(values, dtype="datetime64[s]").view(np.int64)
    if kind == "date":
        return np.array(values, dtype="datetime64[D]").view(np.int64)
    if kind == "boolean":
        return np.array([bool(v) for v in values], dtype=bool)
    return np.array(values, dtype=object)


def kinds_of(table: str, names: list[str], source: Callable[[str], SourceTable] = source_table) -> list[str]:
    types = {c.name: c.type for c in source(table).columns}
    return [types[name] for name in names]


def bulk_loading(connection: Connection) -> None:
    """SQLite only: no journal and no fsync while a generation fills a fresh file (a crash means rerunning
    it anyway), 16 KiB pages (fewer page splits on append), a 64 MB page cache, and a second thread for
    the sorts of CREATE INDEX. Sorts spill to temporary files rather than memory, which bounds memory."""
    if connection.dialect.name == "sqlite":
        for pragma in ("page_size=16384", "journal_mode=OFF", "synchronous=OFF", "cache_size=-65536", "threads=2"):
            connection.exec_driver_sql(f"PRAGMA {pragma}")


class Writer:
    """Inserts and updates rows of a source system's tables (the contract's by default), counting what it did."""

    def __init__(
        self, connection: Connection, metadata: MetaData, source: Callable[[str], SourceTable] = source_table
    ) -> None:
        self.connection = connection
        self.metadata = metadata
        self.source = source
        self.inserted: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()

    @property
    def fast(self) -> bool:
        """Whether inserts take the sqlite3 executemany path rather than SQLAlchemy Core."""
        return self.connection.dialect.name == "sqlite"

    def insert(self, table: str, columns: Mapping[str, np.ndarray]) -> None:
        expected = self.source(table).column_names
        if tuple(columns) != expected:
            raise ValueError(f"rows for {table} have columns {tuple(columns)}, the source declares {expected}")
        count = len(next(iter(columns.values())))
        kinds = kinds_of(table, list(columns), self.source)
        for start in range(0, count, _ROWS_PER_STATEMENT):
            part = [values[start : start + _ROWS_PER_STATEMENT] for values in columns.values()]
            if self.fast:
                sql = f'INSERT INTO "{table}" ({", ".join(expected)}) VALUES ({", ".join("?" * len(expected))})'
                rows = zip(*(_sqlite_values(kind, values) for kind, values in zip(kinds, part)))
                self.connection.connection.dbapi_connection.executemany(sql, rows)
            else:
                lists = [_python_values(kind, values) for kind, values in zip(kinds, part)]
                self.connection.execute(
                    self.metadata.tables[table].insert(), [dict(zip(expected, row)) for row in zip(*lists)]
                )
        self.inserted[table] += count

    def update(self, table: str, keys: Mapping[str, np.ndarray], changes: Mapping[str, np.ndarray]) -> None:
        """Sets changes on the rows with the given keys (every copy of a duplicated key)."""
        count = len(next(iter(keys.values())))
        if not count:
            return
        sql_table = self.metadata.tables[table]
        statement = (
            update(sql_table)
            .where(and_(*(sql_table.c[name] == bindparam(f"key_{name}") for name in keys)))
            .values({name: bindparam(f"new_{name}") for name in changes})
        )
        lists = {
            f"key_{n}": _python_values(k, v)
            for n, k, v in zip(keys, kinds_of(table, list(keys), self.source), keys.values())
        }
        lists |= {
            f"new_{n}": _python_values(k, v)
            for n, k, v in zip(changes, kinds_of(table, list(changes), self.source), changes.values())
        }
        params = [dict(zip(lists, row)) for row in zip(*lists.values())]
        for start in range(0, count, _ROWS_PER_STATEMENT):
            self.connection.execute(statement, params[start : start + _ROWS_PER_STATEMENT])
        self.updated[table] += count


class Batch:
    """Rows of several tables produced together, written together."""

    def __init__(self) -> None:
        self.tables: dict[str, list[Columns]] = {}

    def add(self, table: str, columns: Columns) -> None:
        self.tables.setdefault(table, []).append(columns)

    def merge(self, other: Batch) -> None:
        for table, parts in other.tables.items():
            self.tables.setdefault(table, []).extend(parts)

    def rows(self, table: str) -> Columns:
        parts = self.tables.get(table, [])
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]} if parts else {}

    def write(self, writer: Writer) -> None:
        for table in self.tables:
            rows = self.rows(table)
            if len(next(iter(rows.values()))):
                writer.insert(table, rows)


def read(connection: Connection, statement: Select, kinds: list[str]) -> Columns:
    """Columns of a query's rows in the writer's encoding; kinds are the logical types of its columns."""
    rows = connection.execute(statement).all()
    return {
        column.name: from_python(kind, [row[i] for row in rows])
        for i, (column, kind) in enumerate(zip(statement.selected_columns, kinds))
    }


def read_table(
    connection: Connection, metadata: MetaData, table: str, names: list[str], where: ColumnElement[bool] | None = None
) -> Columns:
    sql_table = metadata.tables[table]
    statement = select(*(sql_table.c[name] for name in names))
    return read(connection, statement if where is None else statement.where(where), kinds_of(table, names))
