"""Same seed and parameters, same database; another seed, another one."""

from __future__ import annotations

import simulator
from crm_contract import SOURCE_TABLES
from tests.simulator.conftest import END_DATE, SCALE, read_rows, sqlite_url


def test_the_same_seed_and_parameters_give_identical_rows_in_every_table(rows, tmp_path):
    again = sqlite_url(tmp_path / "again.sqlite")
    simulator.generate(again, opportunities=SCALE, seed=42, end_date=END_DATE, quiet=True)
    for table in SOURCE_TABLES:
        assert read_rows(again, table.name) == rows(table.name), table.name


def test_another_seed_gives_other_rows(rows, tmp_path):
    other = sqlite_url(tmp_path / "other.sqlite")
    simulator.generate(other, opportunities=SCALE, seed=43, end_date=END_DATE, quiet=True)
    for table in ("customers", "opportunities", "opportunity_stage_history", "payments", "activities", "fx_rates"):
        assert read_rows(other, table) != rows(table), table


def test_the_end_date_moves_the_whole_period(rows, tmp_path):
    later = sqlite_url(tmp_path / "later.sqlite")
    summary = simulator.generate(later, opportunities=SCALE, seed=42, end_date=END_DATE.replace(year=2027), quiet=True)
    assert (summary.first_day.isoformat(), summary.last_day.isoformat()) == ("2025-11-21", "2027-11-20")
    assert max(r["updated_at"] for r in read_rows(later, "opportunities")).year == 2027
