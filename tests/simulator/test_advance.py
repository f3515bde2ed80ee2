"""Advancing the clock gives an incremental extract a real delta, and keeps the history consistent."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine

import simulator
from crm_contract import SOURCE_TABLES
from simulator.schema import build_metadata
from simulator.state import SimulatorState
from tests.simulator.checks import (
    assert_deal_amounts_are_the_sums_of_their_lines,
    assert_stage_histories_chain_to_the_current_stage,
)
from tests.simulator.conftest import END_DATE, read_rows, sqlite_url

DAYS = 30
WINDOW_START = datetime.combine(END_DATE, datetime.min.time()) + timedelta(days=1)
WINDOW_END = WINDOW_START + timedelta(days=DAYS)


@pytest.fixture(scope="module")
def advanced(pristine, tmp_path_factory):
    """A copy of the tiny CRM before and after a month's advance (shared: the tests only read it)."""
    path = tmp_path_factory.mktemp("advanced") / "crm.sqlite"
    shutil.copy(pristine, path)
    crm = sqlite_url(path)
    before = {t.name: read_rows(crm, t.name) for t in SOURCE_TABLES}
    summary = simulator.advance(crm, DAYS)
    after = {t.name: read_rows(crm, t.name) for t in SOURCE_TABLES}
    return crm, before, after, summary


def keyed(rows: list[dict], table: str) -> dict[tuple, dict]:
    key = next(t.primary_key for t in SOURCE_TABLES if t.name == table)
    return {tuple(row[k] for k in key): row for row in rows}


def test_the_clock_moves_by_the_given_days(advanced):
    crm, _, _, summary = advanced
    assert (summary.first_day, summary.last_day) == (END_DATE + timedelta(days=1), END_DATE + timedelta(days=DAYS))
    engine = create_engine(crm)
    with engine.connect() as connection:
        assert (
            SimulatorState.load(connection, build_metadata()).last_day
            == (END_DATE - END_DATE.replace(year=1970, month=1, day=1)).days + DAYS
        )


@pytest.mark.parametrize(
    "table", ["customers", "opportunities", "opportunity_stage_history", "activities", "payments", "fx_rates"]
)
def test_new_rows_arrive_stamped_in_the_new_days(advanced, table):
    _, before, after, summary = advanced
    old = keyed(before[table], table)
    new = [row for key, row in keyed(after[table], table).items() if key not in old]
    assert new and len(new) == summary.inserted[table]
    assert all(WINDOW_START <= row["updated_at"] < WINDOW_END for row in new)


def test_changed_rows_keep_their_keys_and_get_a_later_updated_at(advanced):
    _, before, after, _ = advanced
    for table in SOURCE_TABLES:
        old, new = keyed(before[table.name], table.name), keyed(after[table.name], table.name)
        assert len(new) == len(after[table.name]), f"{table.name} has duplicate keys"
        assert set(old) <= set(new), f"{table.name} lost rows"
        for key, row in old.items():
            if new[key] != row:
                assert WINDOW_START <= new[key]["updated_at"] < WINDOW_END, (table.name, key)


def test_open_deals_move_on_and_some_close(advanced):
    _, before, after, _ = advanced
    was_open = {d["opportunity_id"] for d in before["opportunities"] if d["status"] == "open"}
    now = keyed(after["opportunities"], "opportunities")
    moved = [
        i for i in was_open if now[(i,)]["stage"] != keyed(before["opportunities"], "opportunities")[(i,)]["stage"]
    ]
    assert moved
    assert any(now[(i,)]["status"] != "open" for i in was_open)


def test_users_delete_reassign_and_reprice(advanced):
    _, before, after, summary = advanced
    for table in ("customers", "contacts", "opportunities", "activities"):
        old = keyed(before[table], table)
        deleted = [
            r
            for k, r in keyed(after[table], table).items()
            if r["is_deleted"] and k in old and not old[k]["is_deleted"]
        ]
        assert deleted, table
    old_customers = keyed(before["customers"], "customers")
    assert any(
        old_customers[k]["owner_user_id"] != r["owner_user_id"]
        for k, r in keyed(after["customers"], "customers").items()
        if k in old_customers
    )
    old_lines = keyed(before["opportunity_products"], "opportunity_products")
    assert any(
        old_lines[k]["quantity"] != r["quantity"]
        for k, r in keyed(after["opportunity_products"], "opportunity_products").items()
        if k in old_lines
    )
    assert summary.updated["opportunities"] > 0


def test_the_history_stays_consistent(advanced):
    _, _, after, _ = advanced
    assert_stage_histories_chain_to_the_current_stage(after.__getitem__)
    assert_deal_amounts_are_the_sums_of_their_lines(after.__getitem__)


def test_advancing_twice_by_one_day_from_the_same_state_gives_the_same_rows(pristine, tmp_path):
    copies = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite"
        shutil.copy(pristine, path)
        simulator.advance(sqlite_url(path), 1)
        copies.append(sqlite_url(path))
    for table in SOURCE_TABLES:
        assert read_rows(copies[0], table.name) == read_rows(copies[1], table.name), table.name


def test_planned_events_come_out_the_same_in_one_long_advance_or_two_short_ones(pristine, rows, tmp_path):
    """Existing deals move and installments get paid on the days planned for them, however the days are stepped."""
    urls = []
    for name, steps in (("once", [14]), ("twice", [7, 7])):
        path = tmp_path / f"{name}.sqlite"
        shutil.copy(pristine, path)
        for days in steps:
            simulator.advance(sqlite_url(path), days)
        urls.append(sqlite_url(path))
    open_ids = {d["opportunity_id"] for d in rows("opportunities") if d["status"] == "open"}
    contract_ids = {c["contract_id"] for c in rows("contracts")}

    def planned(url: str) -> tuple[list, list]:
        moves = sorted(
            (m["opportunity_id"], m["from_stage"] or "", m["to_stage"], m["changed_at"])
            for m in read_rows(url, "opportunity_stage_history")
            if m["opportunity_id"] in open_ids
        )
        payments = sorted(
            (p["contract_id"], p["amount"], p["paid_date"])
            for p in read_rows(url, "payments")
            if p["contract_id"] in contract_ids
        )
        return moves, payments

    once, twice = planned(urls[0]), planned(urls[1])
    assert len(once[0]) > len(open_ids) and len(once[1]) > len(rows("payments"))
    assert once == twice


def test_advance_refuses_a_database_missing_a_contract_column(crm):
    simulator.inject(crm, "dropped_column", table="contacts", column="title")
    with pytest.raises(LookupError, match="contacts lacks contract column"):
        simulator.advance(crm, 1)


def test_advance_refuses_a_database_the_simulator_did_not_write(tmp_path):
    with pytest.raises(LookupError, match="_simulator_state"):
        simulator.advance(sqlite_url(tmp_path / "empty.sqlite"), 1)


def test_another_seed_changes_the_arrivals_but_not_the_planned_moves(pristine, rows, tmp_path):
    urls = []
    for seed in (None, 99):
        path = tmp_path / f"seed_{seed}.sqlite"
        shutil.copy(pristine, path)
        simulator.advance(sqlite_url(path), 14, seed=seed)
        urls.append(sqlite_url(path))
    open_ids = {d["opportunity_id"] for d in rows("opportunities") if d["status"] == "open"}
    moves = [
        sorted(
            (m["opportunity_id"], m["to_stage"], m["changed_at"])
            for m in read_rows(url, "opportunity_stage_history")
            if m["opportunity_id"] in open_ids
        )
        for url in urls
    ]
    assert moves[0] == moves[1]
    assert read_rows(urls[0], "customers") != read_rows(urls[1], "customers")
    assert_stage_histories_chain_to_the_current_stage(lambda table: read_rows(urls[1], table))


@pytest.mark.parametrize("defect", [d for d in simulator.DEFECTS if d != "dropped_column"])
def test_advance_carries_on_over_dirty_data(crm, defect):
    simulator.inject(crm, defect, count=10)
    summary = simulator.advance(crm, 10)
    assert summary.inserted["activities"] > 0


@pytest.mark.parametrize("table", ["customers", "opportunities", "contracts", "payment_plans", "opportunity_products"])
def test_advance_carries_on_after_a_table_is_emptied(crm, table):
    simulator.inject(crm, "empty_table", table=table)
    assert simulator.advance(crm, 10).inserted["fx_rates"] == 20


@pytest.mark.parametrize("table", ["users", "products", "fx_rates"])
def test_advance_refuses_a_database_without_reference_data(crm, table):
    simulator.inject(crm, "empty_table", table=table)
    with pytest.raises(LookupError, match=f"{table} is empty"):
        simulator.advance(crm, 1)
