"""A small simulated CRM per test, free to dirty: the extract tests' source."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

import simulator
from tests.support.raw_engines import RawEngine, duckdb_engine, postgres_engine

END_DATE = date(2026, 6, 30)


@pytest.fixture()
def source(tmp_path: Path) -> tuple[str, Path]:
    """(SQLAlchemy URL, file) of a 300-opportunity CRM."""
    path = tmp_path / "crm.sqlite"
    url = f"sqlite:///{path}"
    simulator.generate(url, opportunities=300, seed=7, end_date=END_DATE, quiet=True)
    return url, path


@pytest.fixture(params=["duckdb", "postgres"])
def raw_engine(request: pytest.FixtureRequest, tmp_path: Path) -> RawEngine:
    """An empty warehouse on each engine: a DuckDB file, or a new database on the session's Postgres server."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        return postgres_engine(server.url(server.create_database()))
    return duckdb_engine(tmp_path / "warehouse.duckdb")


@pytest.fixture()
def warehouse(tmp_path: Path):
    """An empty DuckDB warehouse file, in UTC, for the tests that land a source system's tables straight away."""
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con
