"""The generated database follows crm_contract exactly, stored the way SQLAlchemy stores it."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import create_engine, inspect

import simulator
from crm_contract import SOURCE_TABLES
from simulator.schema import STATE_TABLE, build_metadata
from simulator.writer import Writer
from tests.simulator.conftest import END_DATE, SCALE, read_rows, sqlite_url

PYTHON_TYPES = {
    "integer": int,
    "text": str,
    "money": Decimal,
    "rate": Decimal,
    "percent": Decimal,
    "date": date,
    "timestamp": datetime,
    "boolean": bool,
}


def test_every_contract_table_and_column_is_there_in_contract_order_and_nothing_else(pristine):
    inspector = inspect(create_engine(sqlite_url(pristine)))
    assert set(inspector.get_table_names()) == {t.name for t in SOURCE_TABLES} | {STATE_TABLE}
    for table in SOURCE_TABLES:
        assert [c["name"] for c in inspector.get_columns(table.name)] == list(table.column_names), table.name


def test_tables_have_no_key_constraints_but_indexes_on_the_key_and_updated_at(pristine):
    inspector = inspect(create_engine(sqlite_url(pristine)))
    for table in SOURCE_TABLES:
        assert inspector.get_pk_constraint(table.name)["constrained_columns"] == []
        assert inspector.get_unique_constraints(table.name) == []
        indexes = {tuple(i["column_names"]): i["unique"] for i in inspector.get_indexes(table.name)}
        assert indexes == {table.primary_key: False, ("updated_at",): False}, table.name


def test_every_table_has_rows_and_every_value_reads_back_with_its_contract_type(rows):
    for table in SOURCE_TABLES:
        table_rows = rows(table.name)
        assert table_rows, f"{table.name} is empty"
        for column in table.columns:
            values = [row[column.name] for row in table_rows if row[column.name] is not None]
            assert values, f"{table.name}.{column.name} is always null"
            expected = PYTHON_TYPES[column.type]
            wrong = [
                v for v in values if not isinstance(v, expected) or (column.type == "date" and isinstance(v, datetime))
            ]
            assert not wrong, f"{table.name}.{column.name}: {wrong[:3]} are not {expected.__name__}"
            if column.type == "timestamp":
                assert all(v.tzinfo is None for v in values)


def test_sqlite_holds_exactly_what_sqlalchemy_would_have_written(pristine, rows, tmp_path):
    """Rows re-written through SQLAlchemy Core into an empty copy of the schema are stored byte for byte alike."""
    copy = tmp_path / "through_sqlalchemy.sqlite"
    metadata = build_metadata()
    engine = create_engine(sqlite_url(copy))
    with engine.begin() as connection:
        metadata.create_all(connection)
        for table in SOURCE_TABLES:
            connection.execute(metadata.tables[table.name].insert(), rows(table.name)[:50])
    engine.dispose()
    with sqlite3.connect(pristine) as generated, sqlite3.connect(copy) as rewritten:
        for table in SOURCE_TABLES:
            query = f"SELECT * FROM {table.name} ORDER BY rowid LIMIT 50"
            assert generated.execute(query).fetchall() == rewritten.execute(query).fetchall(), table.name


def test_timestamps_dates_and_booleans_are_stored_in_sqlalchemys_sqlite_formats(pristine):
    with sqlite3.connect(pristine) as connection:
        ((updated_at, closed_at, expected_close, deleted),) = connection.execute(
            "SELECT updated_at, closed_at, expected_close_date, is_deleted FROM opportunities WHERE closed_at IS NOT NULL LIMIT 1"
        )
        (amount_type,) = connection.execute(
            "SELECT DISTINCT typeof(amount) FROM contracts WHERE amount <> CAST(amount AS INTEGER)"
        ).fetchone()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", updated_at)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", closed_at)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", expected_close)
    assert deleted in (0, 1)
    assert amount_type == "real"


def test_the_sqlalchemy_core_path_for_other_engines_writes_the_same_rows(rows, tmp_path, monkeypatch):
    """Postgres and MySQL get rows through SQLAlchemy Core; forced onto SQLite, that path stores the same rows."""
    monkeypatch.setattr(Writer, "fast", False)
    url = sqlite_url(tmp_path / "core.sqlite")
    simulator.generate(url, opportunities=SCALE, seed=42, end_date=END_DATE, quiet=True)
    for table in SOURCE_TABLES:
        assert read_rows(url, table.name) == rows(table.name), table.name
