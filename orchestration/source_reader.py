"""Reading the CRM's own database, in bulk, into a batch the DuckDB loader can query.

A SQLite file is read by DuckDB itself through its SQLite scanner (orchestration/sqlite_scanner.py) when
the scanner's wheel is installed: the rows go from the file into a DuckDB temporary table, typed by the
scanner, with no Arrow copy in between. Otherwise, and for PostgreSQL and MySQL/MariaDB, connectorx reads
straight into Arrow columns (no Python object per value). Both push the watermark filter down to the
source, so an incremental read of a large table costs what the delta costs. SQLAlchemy is used only to
look at the source's columns. The README's "Extract" section has the measurements behind this choice.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from crm_contract import Column, SourceTable
from orchestration.raw_schema import duckdb_type
from orchestration.source_url import masked, parse_source_url
from orchestration.sqlite_scanner import SOURCE_CATALOG, attach_sqlite, sqlite_scanner_extension
from orchestration.transient_errors import SourceRetries, SourceUnavailableError

T = TypeVar("T")

# The name a batch has in the loader's DuckDB connection while it is checked and landed.
BATCH_RELATION = "source_batch"

# connectorx's scheme for each database parse_source_url accepts.
_CONNECTORX_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


class SourceContractError(RuntimeError):
    """The CRM database does not match domain.md §1; the message names the table and what is wrong."""


# SQLite waits this long for a lock before "database is locked"; longer waits are SourceRetries' backoff,
# which the run log shows.
SQLITE_BUSY_TIMEOUT_SECONDS = 1.0


class BatchReader(Protocol):
    """Where a landed batch comes from: the CRM database (SourceReader) or a dropped file (FileReader)."""

    advances_watermark: bool

    def check_columns(self, table: SourceTable) -> list[str]: ...

    def absence_note(self, table: SourceTable) -> str | None:
        """After check_columns: what of `table`'s optional parts the source lacks (landed empty or null), or None."""
        ...

    def read(self, table: SourceTable, *, updated_since: datetime | None) -> pa.Table: ...

    def batch_in(
        self, con: duckdb.DuckDBPyConnection, table: SourceTable, *, updated_since: datetime | None
    ) -> AbstractContextManager[str]:
        """The batch as a relation of `con` (named BATCH_RELATION) for as long as the context lasts."""
        ...


def no_watermark_message(table: SourceTable) -> str:
    """A source table with none of its watermark columns cannot be read incrementally: what to restore."""
    return (
        f"source table {table.name!r} has none of its watermark columns ({', '.join(table.watermark)}): it is read "
        "incrementally on the first of them it has; sync one of them (docs/sources.md)"
    )


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> Iterator[str]:
    """An Arrow batch as BATCH_RELATION of `con`: DuckDB scans the Arrow columns in place, without a copy."""
    con.register(BATCH_RELATION, batch)
    try:
        yield BATCH_RELATION
    finally:
        con.unregister(BATCH_RELATION)


class SourceReader:
    """Reads contract tables from the CRM database; transient errors (locked, refused) are retried with backoff."""

    # A database read is the table's delta since its watermark, so merging it moves the watermark.
    advances_watermark = True

    def __init__(
        self, url: str, retries: SourceRetries | None = None, on_retry: Callable[[str], None] | None = None
    ) -> None:
        self.url = parse_source_url(url).render_as_string(hide_password=False)
        self._connectorx_url = _connectorx_url(self.url)
        self._retries = retries or SourceRetries()
        self._on_retry = on_retry
        # DuckDB reads a SQLite file itself when it can; connectorx is the route for servers and the fallback.
        self._scans_sqlite = self._is_sqlite and sqlite_scanner_extension() is not None
        # What check_columns found absent, by table: None the whole (optional) table, else the optional columns.
        self._absent: dict[str, tuple[str, ...] | None] = {}

    def check_columns(self, table: SourceTable) -> list[str]:
        """Fail on a missing contract column; return the source's extra columns (reported, not loaded).

        A table or column declared optional (SourceTable.optional, Column.optional: a Salesforce object the sync may
        not hold) may be missing: it is read as no rows, or as nulls, and absence_note says so.
        """
        present = self._retries.call(
            lambda: self._source_columns(table), what=f"source table {table.name!r}", on_retry=self._on_retry
        )
        if present is None:
            self._absent[table.name] = None
            return []
        missing = [name for name in table.column_names if name not in present]
        required = [column.name for column in table.columns if column.name in missing and not column.optional]
        if required:
            raise SourceContractError(
                f"source table {table.name!r} is missing contract column(s) {required}: "
                "restore them in the CRM database (domain.md §1) before the next run"
            )
        if table.watermark and not table.watermark_in(present):
            raise SourceContractError(no_watermark_message(table))
        if missing:
            self._absent[table.name] = tuple(missing)
        else:
            self._absent.pop(table.name, None)
        return [name for name in present if name not in table.column_names]

    def absence_note(self, table: SourceTable) -> str | None:
        if table.name not in self._absent:
            return None
        absent = self._absent[table.name]
        if absent is None:
            return (
                f"optional table {table.name!r} is not in the CRM database (not synced): raw.{table.name} is empty, and "
                "what is built from it stays empty (docs/sources.md)"
            )
        read_on = table.watermark_in([c for c in table.column_names if c not in absent])
        # a later watermark column the source lacks is only a fallback: not worth a note while an earlier one is there
        unread = [c for c in absent if not (c in table.watermark and table.watermark.index(c) > 0 and read_on)]
        notes = []
        if unread:
            notes.append(
                f"optional column(s) {', '.join(unread)} of {table.name!r} are not in the CRM database: raw keeps them "
                "null (docs/sources.md says how the mapping reads that)"
            )
        if read_on and read_on[0] != table.watermark[0]:
            notes.append(f"{table.name!r} is read incrementally on {', '.join(read_on)}")
        return "; ".join(notes) or None

    def _source_columns(self, table: SourceTable) -> list[str] | None:
        """The source table's columns; None for an optional table the source does not have."""
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS} if self._is_sqlite else {}
        engine = sa.create_engine(self.url, connect_args=connect_args)
        try:
            inspector = sa.inspect(engine)
            if not inspector.has_table(table.name):
                if table.optional:
                    return None
                raise SourceContractError(
                    f"source table {table.name!r} does not exist in {masked(self.url)} (domain.md §1 requires it)"
                )
            return [c["name"] for c in inspector.get_columns(table.name)]
        finally:
            engine.dispose()

    def _as_read(self, table: SourceTable) -> SourceTable:
        """`table` with only the columns the source has (all of them unless check_columns found some absent)."""
        absent = self._absent.get(table.name) or ()
        if not absent:
            return table
        columns = tuple(c for c in table.columns if c.name not in absent)
        return replace(table, columns=columns, watermark=table.watermark_in([c.name for c in columns]))

    def read(self, table: SourceTable, *, updated_since: datetime | None) -> pa.Table:
        """Rows changed at or after `updated_since` (all rows when None), contract columns only, via connectorx."""
        import connectorx

        if self._absent.get(table.name, ()) is None:
            return empty_batch(table)
        declared, table = table, self._as_read(table)
        query = self._select(table, updated_since)
        if self._is_sqlite:
            query = _sqlite_numeric_safe(query, table)
        batch = self._reading(table, lambda: connectorx.read_sql(self._connectorx_url, query, return_type="arrow"))
        batch = _restore_sqlite_numerics(batch, table) if self._is_sqlite else batch
        if table is declared:
            return batch
        nulls = empty_batch(declared).schema
        for column in declared.columns:  # the absent optional columns, null, in the declared order
            if column.name not in batch.column_names:
                field = nulls.field(column.name)
                batch = batch.add_column(declared.columns.index(column), field, pa.nulls(batch.num_rows, field.type))
        return batch

    def batch_in(
        self, con: duckdb.DuckDBPyConnection, table: SourceTable, *, updated_since: datetime | None
    ) -> AbstractContextManager[str]:
        """The rows `read` would return, as BATCH_RELATION of `con`: scanned from SQLite by DuckDB when it can."""
        if self._scans_sqlite:
            return self._scanned(con, table, updated_since)
        return registered(con, self.read(table, updated_since=updated_since))

    @contextmanager
    def _scanned(
        self, con: duckdb.DuckDBPyConnection, table: SourceTable, updated_since: datetime | None
    ) -> Iterator[str]:
        """The batch in a temporary table of `con`, read from the attached SQLite file in one pass.

        A full read scans the attached table (in parallel, typed by the scanner from the declared types). The
        scanner does not push a WHERE down to SQLite, so a delta is a `sqlite_query` that SQLite runs itself
        with the watermark filter (and the watermark columns' indexes); its text columns are cast to the same types as
        they are inserted into the same table.
        """
        if self._absent.get(table.name, ()) is None:  # an optional table the source lacks: no rows
            con.execute(f"CREATE OR REPLACE TEMP TABLE {BATCH_RELATION} AS SELECT * FROM ({_empty_select(table)})")
            try:
                yield BATCH_RELATION
            finally:
                con.execute(f"DROP TABLE IF EXISTS temp.{BATCH_RELATION}")
            return
        declared, table = table, self._as_read(table)
        attach_sqlite(con, self._sqlite_path, busy_timeout_seconds=SQLITE_BUSY_TIMEOUT_SECONDS)
        columns = ", ".join(f'"{name}"' for name in table.column_names)
        attached = f'{SOURCE_CATALOG}."{table.name}"'
        rows = (
            f"SELECT {columns} FROM {attached}"
            if updated_since is None
            else f"SELECT * FROM {_sqlite_query(self._select(table, updated_since))}"
        )

        def scan() -> None:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {BATCH_RELATION} AS SELECT {columns} FROM {attached} LIMIT 0")
            for column in declared.columns:  # absent optional columns: null (INSERT BY NAME leaves them so)
                if column.name not in table.column_names:
                    con.execute(f'ALTER TABLE {BATCH_RELATION} ADD COLUMN "{column.name}" {duckdb_type(column)}')
            con.execute(f"INSERT INTO {BATCH_RELATION} BY NAME {rows}")

        try:
            self._reading(table, scan, explain=lambda: self._raise_if_not_numbers(con, table, updated_since))
            yield BATCH_RELATION
        finally:
            con.execute(f"DROP TABLE IF EXISTS temp.{BATCH_RELATION}")
            con.execute(f"DETACH DATABASE IF EXISTS {SOURCE_CATALOG}")

    def _raise_if_not_numbers(
        self, con: duckdb.DuckDBPyConnection, table: SourceTable, updated_since: datetime | None
    ) -> None:
        """After a failed scan: if text in a NUMERIC column was the cause, say so as the connectorx route does."""
        numeric = [c for c in table.columns if c.type in _NUMERIC_TYPES]
        if not numeric:
            return
        counts = [f"""sum(typeof("{c.name}") NOT IN ('integer', 'real', 'null'))""" for c in numeric]
        try:
            (row,) = con.execute(
                f"SELECT * FROM {_sqlite_query(self._select(table, updated_since, counts))}"
            ).fetchall()
        except duckdb.Error:
            return  # cannot tell; the scan's own error is reported
        for column, count in zip(numeric, row):
            if count is not None and int(count):
                keys = [self._quoted(name) for name in table.primary_key]
                offending = (
                    f"SELECT {', '.join(keys)} FROM ({self._select(table, updated_since, [*keys, self._quoted(column.name)])})"
                    f" WHERE typeof({self._quoted(column.name)}) NOT IN ('integer', 'real', 'null') LIMIT {SAMPLE_KEYS}"
                )
                rows = con.execute(f"SELECT * FROM {_sqlite_query(offending)}").fetchall()
                raise _not_numbers_error(table, column, int(count), rows)

    def _select(self, table: SourceTable, updated_since: datetime | None, expressions: list[str] | None = None) -> str:
        """The query the source runs: the declared columns (or `expressions`) of the rows since `updated_since`."""
        if expressions is None:
            expressions = [self._quoted(name) for name in table.column_names]
        query = f"SELECT {', '.join(expressions)} FROM {self._quoted(table.name)}"  # quoted: Salesforce's `user`
        if updated_since is not None and table.watermark:
            query += f" WHERE {self._since(table.watermark, updated_since)}"
        return query

    def _quoted(self, name: str) -> str:
        return f'"{name}"' if self._quote_double else f"`{name}`"

    def _since(self, watermark: tuple[str, ...], since: datetime) -> str:
        """coalesce(watermark columns) >= since, written so that the source can use an index on each column:
        `a >= t OR (a IS NULL AND b >= t)` for two columns; `updated_at >= t` for the contract's one.

        No bind parameters in connectorx; the literal is a formatted datetime, never user text.
        """
        literal = f"'{since.strftime('%Y-%m-%d %H:%M:%S.%f')}'"
        if len(watermark) == 1:  # the contract's updated_at: the very query of the releases before
            return f"{watermark[0]} >= {literal}"
        terms = []
        for position, column in enumerate(watermark):
            nulls = [f"{self._quoted(before)} IS NULL" for before in watermark[:position]]
            terms.append(" AND ".join([*nulls, f"{self._quoted(column)} >= {literal}"]))
        return " OR ".join(f"({term})" for term in terms)

    def _reading(self, table: SourceTable, action: Callable[[], T], *, explain: Callable[[], None] | None = None) -> T:
        """Run one read of `table`, retrying transient errors; any other failure names the table.

        `explain`, given, looks for a more precise cause first and raises it as a SourceContractError.
        """
        try:
            return self._retries.call(action, what=f"reading source table {table.name!r}", on_retry=self._on_retry)
        except SourceUnavailableError:
            raise
        except Exception as error:  # the drivers' errors do not say which table; add it
            if explain is not None:
                explain()
            raise SourceContractError(f"reading source table {table.name!r} failed: {error}") from error

    @property
    def _quote_double(self) -> bool:
        return not self._connectorx_url.startswith("mysql")

    @property
    def _is_sqlite(self) -> bool:
        return self._connectorx_url.startswith("sqlite://")

    @property
    def _sqlite_path(self) -> Path:
        return Path(self._connectorx_url.removeprefix("sqlite://"))


# SQLite's NUMERIC columns hold integers and reals side by side and have no type connectorx knows, so it
# guesses from the first row and fails on a null. Such columns are read as two never-null columns, a
# REAL value and a state (0 a number, 1 null, 2 not a number at all), and put back together in Arrow.
_NUMERIC_TYPES = {"money", "rate", "percent"}
_STATE_SUFFIX = "__state"


def _sqlite_numeric_safe(query: str, table: SourceTable) -> str:
    columns = []
    for column in table.columns:
        name = f'"{column.name}"'
        if column.type in _NUMERIC_TYPES:
            columns.append(f"coalesce(cast({name} as real), 0.0) as {name}")
            columns.append(
                f"case when {name} is null then 1 when typeof({name}) in ('integer', 'real') then 0 else 2 end "
                f'as "{column.name}{_STATE_SUFFIX}"'
            )
        else:
            columns.append(name)
    select_list = query[len("SELECT ") : query.index(" FROM ")]
    return query.replace(select_list, ", ".join(columns), 1)


def _restore_sqlite_numerics(batch: pa.Table, table: SourceTable) -> pa.Table:
    for column in table.columns:
        if column.type not in _NUMERIC_TYPES:
            continue
        state_name = f"{column.name}{_STATE_SUFFIX}"
        state = batch[state_name].cast(pa.int64())
        not_numbers = pc.sum(pc.equal(state, 2)).as_py() or 0
        if not_numbers:
            offending = batch.filter(pc.equal(state, 2)).select(list(table.primary_key)).slice(0, SAMPLE_KEYS)
            raise _not_numbers_error(table, column, not_numbers, [tuple(r.values()) for r in offending.to_pylist()])
        values = pc.if_else(pc.equal(state, 1), pa.scalar(None, pa.float64()), batch[column.name].cast(pa.float64()))
        batch = batch.set_column(batch.schema.get_field_index(column.name), column.name, values)
        batch = batch.drop_columns([state_name])
    return batch


def _empty_select(table: SourceTable) -> str:
    """A DuckDB query of no rows with `table`'s declared columns and raw types."""
    casts = ", ".join(f'CAST(NULL AS {duckdb_type(c)}) AS "{c.name}"' for c in table.columns)
    return f"SELECT {casts} LIMIT 0"


def empty_batch(table: SourceTable) -> pa.Table:
    """No rows, with `table`'s declared columns typed as raw types them: an optional table the source lacks."""
    with duckdb.connect() as con:
        return con.execute(_empty_select(table)).to_arrow_table()


# How many keys of offending rows an error names.
SAMPLE_KEYS = 5


def _not_numbers_error(
    table: SourceTable, column: Column, count: int, keys: list[tuple[object, ...]]
) -> SourceContractError:
    named = "; ".join(", ".join(f"{k}={v}" for k, v in zip(table.primary_key, key)) for key in keys)
    return SourceContractError(
        f"source table {table.name!r}, column {column.name!r}: {count} value(s) are not numbers "
        f"({column.type} in domain.md §1), e.g. the row(s) {named}; fix them in the CRM database"
    )


def _sqlite_query(query: str) -> str:
    """A query SQLite runs itself on the attached file (the scanner's table function); rows come back as text."""
    return f"sqlite_query('{SOURCE_CATALOG}', '{query.replace(chr(39), chr(39) * 2)}')"


def _connectorx_url(url: str) -> str:
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        # connectorx needs an absolute path ("no such table" otherwise).
        return "sqlite://" + str(Path(parsed.database).resolve())
    return parsed.set(drivername=_CONNECTORX_SCHEMES[backend]).render_as_string(hide_password=False)
