"""Each kind of dirty data is written exactly as its report says, where the report says."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, inspect

import simulator
from crm_contract import source_table
from simulator.catalogue import STAGES
from simulator.defects import DEFAULT_TABLES
from simulator.schema import NULLABLE_FOREIGN_KEYS, foreign_keys
from tests.simulator.conftest import END_DATE, read_rows


def by_key(url: str, table: str) -> dict[tuple, list[dict]]:
    key = source_table(table).primary_key
    grouped: dict[tuple, list[dict]] = {}
    for row in read_rows(url, table):
        grouped.setdefault(tuple(row[k] for k in key), []).append(row)
    return grouped


def newest(url: str, table: str):
    return max(row["updated_at"] for row in read_rows(url, table))


def test_the_defect_names_are_the_ones_domain_md_lists():
    assert simulator.DEFECTS == (
        "duplicate_rows",
        "null_foreign_keys",
        "orphan_foreign_keys",
        "negative_amounts",
        "absurd_amounts",
        "unknown_stages",
        "closed_before_created",
        "late_arriving_updates",
        "soft_deletes",
        "hard_deletes",
        "new_column",
        "dropped_column",
        "empty_table",
    )
    assert set(DEFAULT_TABLES) == set(simulator.DEFECTS)


def test_duplicate_rows_repeat_whole_rows_under_the_same_key(crm):
    injected = simulator.inject(crm, "duplicate_rows", table="payments", count=4)
    rows = by_key(crm, "payments")
    assert len(injected.keys) == 4
    assert all(len(rows[key]) == 2 and rows[key][0] == rows[key][1] for key in injected.keys)
    assert sum(len(r) for r in rows.values()) == len(rows) + 4


def test_null_foreign_keys_empty_a_required_reference(crm):
    injected = simulator.inject(crm, "null_foreign_keys", table="activities", count=3)
    assert injected.column in foreign_keys(source_table("activities"))
    assert ("activities", injected.column) not in NULLABLE_FOREIGN_KEYS
    rows = by_key(crm, "activities")
    assert len(injected.keys) == 3 and all(rows[key][0][injected.column] is None for key in injected.keys)


def test_orphan_foreign_keys_point_at_ids_that_do_not_exist(crm):
    injected = simulator.inject(crm, "orphan_foreign_keys", table="opportunities", column="owner_user_id")
    users = {u["user_id"] for u in read_rows(crm, "users")}
    pointed = [by_key(crm, "opportunities")[key][0]["owner_user_id"] for key in injected.keys]
    assert len(pointed) == 5 and not users.intersection(pointed) and None not in pointed


def test_negative_and_absurd_amounts(crm):
    negative = simulator.inject(crm, "negative_amounts", table="contracts")
    absurd = simulator.inject(crm, "absurd_amounts", table="payments", seed=1)
    contracts, payments = by_key(crm, "contracts"), by_key(crm, "payments")
    assert all(contracts[key][0]["amount"] < 0 for key in negative.keys)
    assert all(payments[key][0]["amount"] > Decimal("1e11") for key in absurd.keys)
    assert len(negative.keys) == len(absurd.keys) == 5


def test_unknown_stages_are_not_in_the_catalogue(crm):
    injected = simulator.inject(crm, "unknown_stages", count=4)
    rows = by_key(crm, "opportunities")
    assert injected.table == "opportunities" and injected.column == "stage"
    assert all(rows[key][0]["stage"] not in STAGES for key in injected.keys)


def test_closed_before_created(crm):
    injected = simulator.inject(crm, "closed_before_created")
    rows = by_key(crm, "opportunities")
    assert all(rows[key][0]["closed_at"] < rows[key][0]["created_at"] for key in injected.keys)


def test_late_arriving_updates_change_rows_with_an_updated_at_older_than_the_newest(crm):
    before = by_key(crm, "opportunities")
    newest_before = newest(crm, "opportunities")
    injected = simulator.inject(crm, "late_arriving_updates", count=4)
    after = by_key(crm, "opportunities")
    assert injected.column == "expected_close_date"
    for key in injected.keys:
        old, new = before[key][0], after[key][0]
        assert old["updated_at"] < new["updated_at"] < newest_before
        assert new[injected.column] == old[injected.column] + timedelta(days=14)
    assert newest(crm, "opportunities") == newest_before


def test_soft_deletes_flag_rows_and_stamp_them_newest(crm):
    newest_before = newest(crm, "contacts")
    injected = simulator.inject(crm, "soft_deletes", table="contacts", count=3)
    rows = by_key(crm, "contacts")
    assert all(rows[key][0]["is_deleted"] and rows[key][0]["updated_at"] > newest_before for key in injected.keys)


def test_soft_deletes_need_an_is_deleted_column(crm):
    with pytest.raises(ValueError, match="products has no is_deleted"):
        simulator.inject(crm, "soft_deletes", table="products")


def test_hard_deletes_remove_rows(crm):
    before = by_key(crm, "activities")
    injected = simulator.inject(crm, "hard_deletes", count=6)
    after = by_key(crm, "activities")
    assert injected.table == "activities" and len(injected.keys) == 6
    assert all(key in before and key not in after for key in injected.keys)
    assert len(after) == len(before) - 6


def test_new_column_is_added_and_filled(crm):
    injected = simulator.inject(crm, "new_column", table="customers", count=2)
    rows = by_key(crm, "customers")
    assert injected.column == "custom_field"
    assert Counter(row[0]["custom_field"] is not None for row in rows.values())[True] == 2


def test_dropped_column_removes_a_contract_column(crm):
    injected = simulator.inject(crm, "dropped_column", table="opportunities", seed=3)
    columns = [c["name"] for c in inspect(create_engine(crm)).get_columns("opportunities")]
    assert injected.column in source_table("opportunities").column_names
    assert injected.column not in columns and injected.column not in ("opportunity_id", "updated_at")
    assert len(columns) == len(source_table("opportunities").columns) - 1


def test_empty_table(crm):
    injected = simulator.inject(crm, "empty_table", table="invoices")
    assert read_rows(crm, "invoices") == [] and injected.keys == ()


def test_the_same_seed_damages_the_same_rows(crm, pristine, tmp_path):
    first = simulator.inject(crm, "soft_deletes", seed=9)
    again = tmp_path / "again.sqlite"
    again.write_bytes(pristine.read_bytes())
    assert simulator.inject(f"sqlite:///{again}", "soft_deletes", seed=9).keys == first.keys
    assert simulator.inject(f"sqlite:///{again}", "hard_deletes", seed=10).keys != first.keys


def test_an_unknown_defect_or_table_is_refused_with_the_choices(crm):
    with pytest.raises(ValueError, match="expected one of duplicate_rows"):
        simulator.inject(crm, "typos")
    with pytest.raises(KeyError, match="not a CRM source table"):
        simulator.inject(crm, "empty_table", table="deals")


def test_defects_can_be_asked_for_at_generation(tmp_path):
    url = f"sqlite:///{tmp_path / 'dirty.sqlite'}"
    summary = simulator.generate(
        url, opportunities=100, end_date=END_DATE, quiet=True, defects=["unknown_stages", "empty_table"]
    )
    assert [d.defect for d in summary.defects] == ["unknown_stages", "empty_table"]
    assert read_rows(url, "satisfaction_surveys") == []
    assert sum(row["stage"] not in STAGES for row in read_rows(url, "opportunities")) == 5
