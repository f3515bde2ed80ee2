"""Compare the warehouse's raw tables with the CRM source, row by row, whatever database the source is."""

from __future__ import annotations

import duckdb

from crm_contract import SOURCE_TABLES, source_table
from orchestration.incremental_load import load_table
from orchestration.raw_schema import duckdb_type
from orchestration.source_reader import SourceReader
from orchestration.source_system import any_table


def load_all(con: duckdb.DuckDBPyConnection, url: str, load_id: str, **kwargs) -> dict[str, object]:
    reader = SourceReader(url)
    return {t.name: load_table(con, reader, t, load_id=load_id, **kwargs) for t in SOURCE_TABLES}


def source_rows(url: str, table_name: str) -> list[tuple]:
    """The source's rows, read back through DuckDB's typing so both sides compare like for like."""
    table = source_table(table_name)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        reader_rows = SourceReader(url).read(table, updated_since=None)
        con.register("src", reader_rows)
        casts = ", ".join(f'CAST("{c.name}" AS {duckdb_type(c)})' for c in table.columns)
        return sorted(con.execute(f"SELECT DISTINCT {casts} FROM src").fetchall(), key=repr)


def raw_rows(con: duckdb.DuckDBPyConnection, table_name: str) -> list[tuple]:
    """A raw table's declared columns, sorted; the table is any source system's (any_table)."""
    columns = ", ".join(f'"{c}"' for c in any_table(table_name).column_names)
    return sorted(con.execute(f"SELECT {columns} FROM raw.{table_name}").fetchall(), key=repr)


def postgres_rows(url: str, table_name: str) -> list[tuple]:
    """A Postgres warehouse's raw table, as raw_rows reads DuckDB's."""
    import sqlalchemy as sa

    columns = ", ".join(f'"{c}"' for c in any_table(table_name).column_names)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            return sorted((tuple(r) for r in con.exec_driver_sql(f"SELECT {columns} FROM raw.{table_name}")), key=repr)
    finally:
        engine.dispose()


def assert_raw_matches_source(con: duckdb.DuckDBPyConnection, url: str) -> None:
    for table in SOURCE_TABLES:
        assert raw_rows(con, table.name) == source_rows(url, table.name), f"raw.{table.name} differs from the source"
        keys = ", ".join(table.primary_key)
        dupes = con.execute(
            f"SELECT count(*) FROM (SELECT {keys} FROM raw.{table.name} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        assert dupes == 0, f"raw.{table.name} has duplicate keys"


def postgres_watermark(url: str, table_name: str):
    """A table's watermark in a Postgres warehouse's extract state (None before its first merge)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            row = con.exec_driver_sql(
                "SELECT watermark FROM raw._extract_state WHERE table_name = %(name)s", {"name": table_name}
            ).fetchone()
            return row[0] if row else None
    finally:
        engine.dispose()
