"""A tiny simulated CRM, generated once per session and copied for tests that change it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine, select

import simulator

END_DATE = date(2026, 11, 20)
SCALE = 200
MEDIUM_SCALE = 4_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def read_rows(url: str, table: str) -> list[dict]:
    """Every row of table as SQLAlchemy returns it (reflected, so defects that change columns show)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            reflected = Table(table, MetaData(), autoload_with=connection)
            return [dict(row) for row in connection.execute(select(reflected)).mappings()]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crm") / "crm.sqlite"
    simulator.generate(sqlite_url(path), opportunities=SCALE, seed=42, end_date=END_DATE, quiet=True)
    return path


def _cached_reader(path: Path) -> Callable[[str], list[dict]]:
    cache: dict[str, list[dict]] = {}

    def of(table: str) -> list[dict]:
        if table not in cache:
            cache[table] = read_rows(sqlite_url(path), table)
        return cache[table]

    return of


@pytest.fixture(scope="session")
def rows(pristine: Path) -> Callable[[str], list[dict]]:
    """Rows of the pristine database by table, read once."""
    return _cached_reader(pristine)


@pytest.fixture(scope="session")
def medium_rows(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[dict]]:
    """Rows of a CRM big enough for proportions to show (4,000 deals, 1,000 accounts)."""
    path = tmp_path_factory.mktemp("crm_medium") / "crm.sqlite"
    simulator.generate(sqlite_url(path), opportunities=MEDIUM_SCALE, seed=7, end_date=END_DATE, quiet=True)
    return _cached_reader(path)


@pytest.fixture
def crm(pristine: Path, tmp_path: Path) -> str:
    """URL of a private copy of the tiny CRM, free to change."""
    copy = tmp_path / "crm.sqlite"
    shutil.copy(pristine, copy)
    return sqlite_url(copy)
