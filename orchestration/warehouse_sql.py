"""One small SQL interface over the warehouse engines the Dagster job writes: DuckDB (a file) and PostgreSQL.

The gates, the quarantine and the snapshot counts need a handful of queries (counts, a few keys, an insert)
on whichever warehouse CRM_WAREHOUSE_TARGET names. Their SQL is written once, in the subset both engines
speak; what really differs (parameter markers, a row key rendered as text) is here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import duckdb


class SqlSession(Protocol):
    """Queries with `?` parameters; `transaction()` makes a group of statements all-or-nothing."""

    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def columns(self, sql: str) -> list[str]: ...

    def key_text(self, key: Sequence[str]) -> str: ...

    def transaction(self) -> Any: ...


def duckdb_key_text(key: Sequence[str]) -> str:
    """SQL rendering a row key as text, as raw._hard_deletes and raw._quarantine hold it: {'opportunity_id': 42}."""
    return "CAST(struct_pack(" + ", ".join(f'"{k}" := "{k}"' for k in key) + ") AS VARCHAR)"


def postgres_key_text(key: Sequence[str]) -> str:
    """The same text as DuckDB's struct rendering, in Postgres."""
    return "'{' || " + " || ', ' || ".join(f"'''{k}'': ' || \"{k}\"::text" for k in key) + " || '}'"


def scalar(session: SqlSession, sql: str, params: Sequence[Any] = ()) -> Any:
    return session.rows(sql, params)[0][0]


class DuckDBSession:
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, list(params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def columns(self, sql: str) -> list[str]:
        return [column[0] for column in self.con.execute(f"SELECT * FROM ({sql}) AS probe LIMIT 0").description]

    def key_text(self, key: Sequence[str]) -> str:
        return duckdb_key_text(key)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing. A failed ROLLBACK (DuckDB may already have aborted the transaction, as on a full
        disk) never hides the error that caused it."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException:
            with suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            raise


class PostgresSession:
    """A psycopg2 connection; outside `transaction()` every statement commits on its own."""

    dialect = "postgresql"

    def __init__(self, con: Any) -> None:
        self.con = con
        self.con.autocommit = True
        self.execute("SET TIME ZONE 'UTC'")  # naive UTC timestamps everywhere, as in DuckDB

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.con.cursor() as cursor:
            cursor.execute(*_psycopg_query(sql, params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.con.cursor() as cursor:
            cursor.execute(*_psycopg_query(sql, params))
            return cursor.fetchall()

    def columns(self, sql: str) -> list[str]:
        with self.con.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({sql}) AS probe LIMIT 0")
            return [column[0] for column in cursor.description]

    def key_text(self, key: Sequence[str]) -> str:
        return postgres_key_text(key)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.autocommit = False
        try:
            with self.con:  # commits on success, rolls back on any error
                yield
        finally:
            self.con.autocommit = True


def _psycopg_query(sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any] | None]:
    """psycopg2 marks parameters with %s and then reads every % as a marker: escape literal ones."""
    if not params:
        return sql, None
    return sql.replace("%", "%%").replace("?", "%s"), list(params)
