"""A small simulated CRM per test, free to dirty: the extract tests' source."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import simulator

END_DATE = date(2026, 6, 30)


@pytest.fixture()
def source(tmp_path: Path) -> tuple[str, Path]:
    """(SQLAlchemy URL, file) of a 300-opportunity CRM."""
    path = tmp_path / "crm.sqlite"
    url = f"sqlite:///{path}"
    simulator.generate(url, opportunities=300, seed=7, end_date=END_DATE, quiet=True)
    return url, path
