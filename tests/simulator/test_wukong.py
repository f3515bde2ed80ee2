"""The simulator speaks 悟空CRM 11: the same business in wk_ tables, by the inverse of sources.md's mapping."""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, inspect

import simulator
from crm_contract import SOURCE_TABLES as CONTRACT_TABLES
from crm_wukong import SOURCE_TABLES as WUKONG_TABLES
from simulator.catalogue import OPEN_STAGE_WIN_PERCENT, OPEN_STAGES
from simulator.cli import main
from simulator.timeline import NULL
from simulator.wukong import CLOSING_NOTE_IDS, STAGE_NOTE_IDS, to_local
from tests.simulator.conftest import END_DATE, SCALE, _cached_reader, read_rows, sqlite_url
from tests.support.servers import Server

SHANGHAI = timedelta(hours=8)  # Asia/Shanghai has had no daylight saving since 1991
SEED = 42
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wukong_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wukong") / "wukong.sqlite"
    simulator.generate(sqlite_url(path), opportunities=SCALE, seed=SEED, end_date=END_DATE, quiet=True, system="wukong")
    return path


@pytest.fixture(scope="module")
def compatible_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("compatible") / "crm.sqlite"
    simulator.generate(
        sqlite_url(path), opportunities=SCALE, seed=SEED, end_date=END_DATE, quiet=True, wukong_compatible=True
    )
    return path


@pytest.fixture(scope="module")
def wk(wukong_db):
    """Rows of the 悟空CRM database's tables, read once."""
    return _cached_reader(wukong_db)


@pytest.fixture(scope="module")
def contract(compatible_db):
    """Rows of the compatible contract database's tables, read once."""
    return _cached_reader(compatible_db)


@pytest.fixture
def wukong_crm(wukong_db, tmp_path) -> str:
    copy = tmp_path / "wukong.sqlite"
    shutil.copy(wukong_db, copy)
    return sqlite_url(copy)


def test_generate_wukong_writes_the_declared_tables_columns_keys_and_watermark_indexes(wukong_db):
    engine = create_engine(sqlite_url(wukong_db))
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            for table in WUKONG_TABLES:
                columns = {c["name"] for c in inspector.get_columns(table.name)}
                assert set(table.column_names) <= columns, table.name
                assert tuple(inspector.get_pk_constraint(table.name)["constrained_columns"]) == table.primary_key
                indexed = {tuple(i["column_names"]) for i in inspector.get_indexes(table.name)}
                assert {(c,) for c in table.watermark} <= indexed, table.name
    finally:
        engine.dispose()


def test_the_stage_group_is_the_open_stages_with_the_seed_win_probabilities(wk):
    with open(REPO / "dbt_project/seeds/stage_catalogue.csv", encoding="utf-8") as seed:
        catalogue = {r["stage"]: r for r in csv.DictReader(seed)}
    assert [round(float(catalogue[s]["win_probability"]) * 100) for s in OPEN_STAGES] == list(OPEN_STAGE_WIN_PERCENT)
    assert [(g["type_id"], g["status"]) for g in wk("wk_crm_business_type")] == [(1, 1)]
    statuses = sorted(wk("wk_crm_business_status"), key=lambda r: r["order_num"])
    assert [(s["name"], s["rate"], s["type_id"]) for s in statuses] == [
        ("lead", "10", 1),
        ("contacted", "20", 1),
        ("qualified", "40", 1),
        ("proposal", "60", 1),
        ("negotiation", "80", 1),
    ]


def test_the_wukong_database_keeps_the_compatible_contract_business_as_its_record(wukong_db, compatible_db):
    """Same seed and arguments: the contract tables beside the wk_ tables are the --wukong-compatible output."""
    for table in CONTRACT_TABLES:
        assert read_rows(sqlite_url(wukong_db), table.name) == read_rows(sqlite_url(compatible_db), table.name)


def test_equal_advances_keep_the_two_shapes_describing_one_business(wukong_crm, compatible_db, tmp_path):
    compatible = tmp_path / "compatible.sqlite"
    shutil.copy(compatible_db, compatible)
    for url in (wukong_crm, sqlite_url(compatible)):
        simulator.advance(url, 3)
    for table in CONTRACT_TABLES:
        assert read_rows(wukong_crm, table.name) == read_rows(sqlite_url(compatible), table.name), table.name
    assert {u["region"] for u in read_rows(wukong_crm, "users")} == {None}
    assert read_rows(wukong_crm, "fx_rates") == []


def test_a_contract_database_records_no_system_so_its_state_is_unchanged(rows):
    assert {r["key"] for r in rows("_simulator_state")}.isdisjoint({"system", "wukong_compatible", "timezone"})


def test_counts_agree_with_the_compatible_contract_generation(wk, contract):
    opportunities = contract("opportunities")
    assert len(wk("wk_crm_business")) == len(opportunities) == SCALE
    assert Counter(b["is_end"] for b in wk("wk_crm_business")) == Counter(
        {"open": 0, "won": 1, "lost": 2}[o["status"]] for o in opportunities
    )
    assert sum(b["status"] == 3 for b in wk("wk_crm_business")) == sum(o["is_deleted"] for o in opportunities)
    approved = [c for c in wk("wk_crm_contract") if c["check_status"] == 1]
    signed = [c for c in contract("contracts") if not c["is_deleted"]]
    assert len(approved) == len(signed) > 0
    assert sum(c["money"] for c in approved) == sum(c["amount"] for c in signed)
    received = [r["money"] for r in wk("wk_crm_receivables") if r["check_status"] == 1]
    paid = [p["amount"] for p in contract("payments") if not p["is_deleted"]]
    assert len(received) == len(paid) > 0 and sum(received) == sum(paid)
    follow_ups = [a for a in wk("wk_crm_activity") if a["type"] == 1 and a["status"] == 1]
    assert len(follow_ups) == sum(not a["is_deleted"] for a in contract("activities"))
    assert len(wk("wk_crm_receivables_plan")) == len(contract("payment_plans"))
    assert len(wk("wk_crm_business_product")) == len(contract("opportunity_products"))


def test_the_compatible_business_is_restricted_to_what_wukong_can_hold(contract):
    assert {o["currency"] for o in contract("opportunities")} == {"CNY"}
    assert {c["currency"] for c in contract("contracts")} == {"CNY"}
    assert contract("fx_rates") == [] and contract("marketing_spend") == []
    assert {line["discount_pct"] for line in contract("opportunity_products")} == {Decimal("0")}
    assert {u["region"] for u in contract("users")} == {None}
    assert {t["new_customer_target"] for t in contract("sales_targets")} == {None}
    assert {s["product_id"] for s in contract("satisfaction_surveys")} == {None}
    assert {c["status"] for c in contract("contracts")} == {"active"}
    customers = {c["customer_id"]: c for c in contract("customers")}
    assert all(o["source"] == customers[o["customer_id"]]["source"] for o in contract("opportunities"))
    history = contract("opportunity_stage_history")
    assert {h["to_stage"] for h in history if h["from_stage"] is None} == {"lead"}
    assert not {h["to_stage"] for h in history} & {"won", "lost"}


def test_no_change_row_at_creation_and_none_at_closing(wk, contract):
    history = contract("opportunity_stage_history")
    assert {c["change_id"] for c in wk("wk_crm_business_change")} == {
        h["history_id"] for h in history if h["from_stage"] is not None
    }
    status_names = {s["status_id"]: s["name"] for s in wk("wk_crm_business_status")}
    by_id = {h["history_id"]: h for h in history}
    for change in wk("wk_crm_business_change"):
        move = by_id[change["change_id"]]
        assert status_names[change["status_id"]] == move["to_stage"]
        assert change["create_time"] == move["changed_at"] + SHANGHAI
        assert change["create_user_id"] == move["changed_by_user_id"]
    notes = [a for a in wk("wk_crm_activity") if a["type"] == 3 and a["activity_id"] < CLOSING_NOTE_IDS]
    assert {a["activity_id"] - STAGE_NOTE_IDS for a in notes} == {c["change_id"] for c in wk("wk_crm_business_change")}


def test_a_closing_writes_a_type_3_follow_up_with_the_outcome_at_closed_at_local_time(wk, contract):
    closings = {
        a["activity_type_id"]: a for a in wk("wk_crm_activity") if a["type"] == 3 and a["content"] in ("赢单", "输单")
    }
    closed = [o for o in contract("opportunities") if o["status"] != "open"]
    assert closed and set(closings) == {o["opportunity_id"] for o in closed}
    for deal in closed:
        note = closings[deal["opportunity_id"]]
        assert note["content"] == {"won": "赢单", "lost": "输单"}[deal["status"]]
        assert (note["activity_type"], note["create_time"]) == (5, deal["closed_at"] + SHANGHAI)
    business = {b["business_id"]: b for b in wk("wk_crm_business")}
    lost = [o for o in closed if o["status"] == "lost"]
    assert lost and all(business[o["opportunity_id"]]["status_remark"] == o["loss_reason"] for o in lost)


def test_opportunities_carry_the_open_stage_local_times_and_creator(wk, contract):
    status_ids = {s["name"]: s["status_id"] for s in wk("wk_crm_business_status")}
    business = {b["business_id"]: b for b in wk("wk_crm_business")}
    first_move = {
        h["opportunity_id"]: h["changed_by_user_id"]
        for h in contract("opportunity_stage_history")
        if h["from_stage"] is None
    }
    for deal in contract("opportunities"):
        row = business[deal["opportunity_id"]]
        if deal["status"] == "open":
            assert row["status_id"] == status_ids[deal["stage"]]
        assert row["create_time"] == deal["created_at"] + SHANGHAI
        assert row["deal_date"].date() == deal["expected_close_date"]
        assert row["create_user_id"] == first_move[deal["opportunity_id"]]
        assert (row["money"], row["business_name"], row["owner_user_id"]) == (
            deal["amount"],
            deal["name"],
            deal["owner_user_id"],
        )


def test_customers_keep_industry_level_source_and_region_as_custom_fields(wk, contract):
    fields = defaultdict(dict)
    for row in wk("wk_crm_customer_data"):
        fields[row["batch_id"]][row["name"]] = row["value"]
    labels = {"A": "A（重点客户）", "B": "B（普通客户）", "C": "C（非优先客户）"}
    customers = {c["customer_id"]: c for c in wk("wk_crm_customer")}
    for customer in contract("customers"):
        row = customers[customer["customer_id"]]
        province, city, _ = row["address"].split(",")
        assert (province, city) == (customer["province"], customer["city"])
        assert fields[row["batch_id"]] == {
            "industry": customer["industry"],
            "level": labels[customer["level"]],
            "source": customer["source"],
            "region": customer["region"],
        }
        assert row["status"] == (3 if customer["is_deleted"] else 1)


def test_follow_ups_are_type_1_with_chinese_categories_and_deleted_ones_are_gone(wk, contract):
    follow_ups = {a["activity_id"]: a for a in wk("wk_crm_activity") if a["type"] == 1}
    categories = {"call": "打电话", "email": "发邮件", "message": "发短信", "visit": "见面拜访", "meeting": "活动"}
    for activity in contract("activities"):
        row = follow_ups.get(activity["activity_id"])
        if activity["is_deleted"]:
            assert row is None
            continue
        assert row["category"] == categories.get(activity["activity_type"], activity["activity_type"])
        if activity["opportunity_id"] is None:
            assert (row["activity_type"], row["activity_type_id"]) == (2, activity["customer_id"])
        else:
            assert (row["activity_type"], row["activity_type_id"]) == (5, activity["opportunity_id"])
        assert row["create_time"] == activity["occurred_at"] + SHANGHAI


def test_targets_are_person_year_rows_with_twelve_months_and_0_for_no_target(wk, contract):
    months = ("january", "february", "march", "april", "may", "june", "july", "august", "september")
    months += ("october", "november", "december")
    targets = {(t["user_id"], t["target_month"]): t for t in contract("sales_targets")}
    rows = wk("wk_crm_achievement")
    assert rows and {(r["type"], r["status"]) for r in rows} == {(3, 1), (3, 2)}
    column = {1: "contract_amount_target", 2: "payment_amount_target"}
    zeros = 0
    for row in rows:
        for number, month in enumerate(months, start=1):
            target = targets.get((row["obj_id"], datetime(int(row["year"]), number, 1).date()))
            assert row[month] == (target[column[row["status"]]] if target else 0)
            zeros += target is None
    assert zeros > 0  # the first year starts mid-year: its earlier months have no target


def test_surveys_become_return_visits_with_a_satisfaction_word(wk, contract):
    words = {5: "很满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}
    visits = {v["visit_id"]: v for v in wk("wk_crm_return_visit")}
    data = {d["batch_id"]: d for d in wk("wk_crm_return_visit_data")}
    surveys = contract("satisfaction_surveys")
    assert surveys and len(visits) == len(surveys)
    contract_ids = {c["contract_id"] for c in contract("contracts")}
    for survey in surveys:
        visit = visits[survey["survey_id"]]
        assert visit["contract_id"] in contract_ids
        assert visit["visit_time"] == survey["surveyed_at"] + SHANGHAI
        answer = data[visit["batch_id"]]
        assert (answer["name"], answer["value"]) == ("satisficing", words[survey["score"]])


def test_users_departments_and_contracts_follow_the_mapping(wk, contract):
    users = {u["user_id"]: u for u in wk("wk_admin_user")}
    for user in contract("users"):
        row = users[user["user_id"]]
        assert row["parent_id"] == (user["manager_user_id"] or 0)
        assert (row["realname"], row["status"], row["is_del"]) == (user["name"], int(user["is_active"]), 0)
    departments = {d["dept_id"]: d for d in wk("wk_admin_dept")}
    assert all(
        departments[d["department_id"]]["pid"] == (d["parent_department_id"] or 0) for d in contract("departments")
    )
    contracts = {c["contract_id"]: c for c in wk("wk_crm_contract")}
    for signed in contract("contracts"):
        row = contracts[signed["contract_id"]]
        assert row["check_status"] == (7 if signed["is_deleted"] else 1)
        assert (row["num"], row["order_date"].date(), row["business_id"]) == (
            signed["contract_no"],
            signed["signed_date"],
            signed["opportunity_id"],
        )
    assert {p["num"] for p in wk("wk_crm_receivables_plan")} >= {"1"}


def assert_plans_received_status_follows_their_payments(url: str) -> None:
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for payment in read_rows(url, "wk_crm_receivables"):
        if payment["check_status"] == 1 and payment["receivables_plan_id"] is not None:
            paid[payment["receivables_plan_id"]] += payment["money"]
    statuses = Counter()
    for plan in read_rows(url, "wk_crm_receivables_plan"):
        received = paid[plan["receivables_plan_id"]]
        expected = 1 if received >= plan["money"] else 2 if received > 0 else 0
        assert plan["received_status"] == expected, plan
        statuses[expected] += 1
    assert set(statuses) == {0, 1, 2}


def test_plans_received_status_follows_their_payments_also_after_an_advance(wukong_crm):
    assert_plans_received_status_follows_their_payments(wukong_crm)
    simulator.advance(wukong_crm, 20)
    assert_plans_received_status_follows_their_payments(wukong_crm)


def test_advance_adds_a_day_to_a_wukong_database(wukong_crm):
    before = {t.name: read_rows(wukong_crm, t.name) for t in WUKONG_TABLES}
    summary = simulator.advance(wukong_crm, 1)
    after = {t.name: read_rows(wukong_crm, t.name) for t in WUKONG_TABLES}
    day_start = datetime.combine(END_DATE + timedelta(days=1), datetime.min.time()) + SHANGHAI
    day_end = day_start + timedelta(days=1)
    assert summary.first_day == summary.last_day == END_DATE + timedelta(days=1)
    assert sum(summary.inserted.values()) > 0
    for table in WUKONG_TABLES:
        key = table.primary_key[0]
        old = {r[key]: r for r in before[table.name]}
        new = [r for r in after[table.name] if r[key] not in old or r != old[r[key]]]
        assert len({r[key] for r in after[table.name]}) == len(after[table.name]), table.name
        for row in new:
            stamp = row.get("update_time") or row.get("create_time")
            if stamp is not None:
                assert day_start <= stamp < day_end, (table.name, row[key], stamp)
    assert len(after["wk_crm_activity"]) > len(before["wk_crm_activity"])
    assert read_rows(wukong_crm, "_simulator_state")  # the clock moved on in the state too
    assert simulator.advance(wukong_crm, 1).first_day == END_DATE + timedelta(days=2)


def wk_rows(url: str, table: str, key: str) -> dict:
    return {r[key]: r for r in read_rows(url, table)}


def test_unapproved_contracts_get_a_check_status_that_is_not_approval(wukong_crm):
    injected = simulator.inject(wukong_crm, "unapproved_contracts", count=4)
    rows = wk_rows(wukong_crm, "wk_crm_contract", "contract_id")
    assert injected.table == "wk_crm_contract" and len(injected.keys) == 4
    assert [rows[k]["check_status"] for (k,) in injected.keys] == [2, 8, 0, 3]
    newest = max(r["update_time"] for r in rows.values())
    assert all(rows[k]["update_time"] == newest for (k,) in injected.keys)


def test_unknown_check_status_writes_values_wukong_does_not_have(wukong_crm):
    injected = simulator.inject(wukong_crm, "unknown_check_status", table="wk_crm_receivables", count=3)
    rows = wk_rows(wukong_crm, "wk_crm_receivables", "receivables_id")
    assert [rows[k]["check_status"] for (k,) in injected.keys] == [11, 42, 99]


def test_voided_plans_set_received_status_3(wukong_crm):
    injected = simulator.inject(wukong_crm, "voided_plans", count=3)
    rows = wk_rows(wukong_crm, "wk_crm_receivables_plan", "receivables_plan_id")
    assert len(injected.keys) == 3 and all(rows[k]["received_status"] == 3 for (k,) in injected.keys)
    assert sum(r["received_status"] == 3 for r in rows.values()) == 3


def test_invalid_opportunities_close_open_ones_with_a_wuxiao_follow_up(wukong_crm):
    before = wk_rows(wukong_crm, "wk_crm_business", "business_id")
    injected = simulator.inject(wukong_crm, "invalid_opportunities", count=2)
    rows = wk_rows(wukong_crm, "wk_crm_business", "business_id")
    notes = wk_rows(wukong_crm, "wk_crm_activity", "activity_id")
    for (business_id,) in injected.keys:
        assert before[business_id]["is_end"] == 0 and rows[business_id]["is_end"] == 3
        note = notes[CLOSING_NOTE_IDS + business_id]
        assert (note["type"], note["activity_type"], note["activity_type_id"], note["content"]) == (
            3,
            5,
            business_id,
            "无效",
        )
        assert note["create_time"] == rows[business_id]["update_time"]


def test_hard_deleted_children_are_gone_and_only_children_qualify(wukong_crm):
    before = len(read_rows(wukong_crm, "wk_crm_business_product"))
    injected = simulator.inject(wukong_crm, "hard_deleted_children", count=3)
    remaining = wk_rows(wukong_crm, "wk_crm_business_product", "r_id")
    assert len(remaining) == before - 3 and not {k for (k,) in injected.keys} & set(remaining)
    plans = simulator.inject(wukong_crm, "hard_deleted_children", table="wk_crm_receivables_plan", count=1)
    assert plans.keys[0][0] not in wk_rows(wukong_crm, "wk_crm_receivables_plan", "receivables_plan_id")
    with pytest.raises(ValueError, match="wk_crm_contract has no children"):
        simulator.inject(wukong_crm, "hard_deleted_children", table="wk_crm_contract")


def test_defects_are_checked_against_the_database_shape(wukong_crm, crm, tmp_path):
    fresh = sqlite_url(tmp_path / "fresh.sqlite")
    with pytest.raises(ValueError, match="cannot be injected at generation into a wukong database"):
        simulator.generate(fresh, opportunities=10, end_date=END_DATE, system="wukong", defects=["duplicate_rows"])
    assert not (tmp_path / "fresh.sqlite").exists()  # refused before anything was written
    with pytest.raises(ValueError, match="is a 悟空CRM database"):
        simulator.inject(wukong_crm, "duplicate_rows")
    with pytest.raises(ValueError, match="holds contract tables"):
        simulator.inject(crm, "voided_plans")
    injected = simulator.inject(wukong_crm, "negative_amounts", table="wk_crm_business", count=2)
    rows = wk_rows(wukong_crm, "wk_crm_business", "business_id")
    assert all(rows[k]["money"] < 0 for (k,) in injected.keys)


def test_generate_wukong_from_the_command_line_and_a_bad_time_zone(tmp_path, capsys):
    url = sqlite_url(tmp_path / "wk.sqlite")
    arguments = ["generate", "--url", url, "--opportunities", "40", "--end-date", "2026-11-20", "--quiet"]
    assert main([*arguments, "--system", "wukong", "--defect", "voided_plans"]) == 0
    out = capsys.readouterr().out
    assert "wk_crm_business " in out and "defect voided_plans" in out
    assert main(["advance", "--url", url]) == 0
    assert main([*arguments, "--replace", "--system", "wukong", "--timezone", "Mars/Olympus"]) == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err


def test_a_wukong_database_round_trips_through_mariadb(mariadb: Server, wukong_db):
    """The same seed on MariaDB gives the rows SQLite got, Chinese text included, and advances."""
    url = mariadb.url(mariadb.create_database())
    simulator.generate(url, opportunities=SCALE, seed=SEED, end_date=END_DATE, quiet=True, system="wukong")
    for table in WUKONG_TABLES:
        key = table.primary_key[0]
        assert wk_rows(url, table.name, key) == wk_rows(sqlite_url(wukong_db), table.name, key), table.name
    assert simulator.advance(url, 2).inserted["wk_crm_activity"] > 0
    assert simulator.inject(url, "voided_plans", count=2).keys


def test_local_times_follow_the_zone_through_its_transitions():
    """Lord Howe Island leaves daylight saving at 02:00 local, 15:00 UTC on 2026-04-04, by half an hour."""
    before, after = datetime(2026, 4, 4, 14, 59, 59), datetime(2026, 4, 4, 15, 0, 0)
    seconds = np.array([int((t - datetime(1970, 1, 1)).total_seconds()) for t in (before, after)], dtype=np.int64)
    local = [datetime(1970, 1, 1) + timedelta(seconds=int(s)) for s in to_local(seconds, "Australia/Lord_Howe")]
    assert local == [before + timedelta(hours=11), after + timedelta(hours=10, minutes=30)]
    assert to_local(np.array([NULL]), "Asia/Shanghai").tolist() == [NULL]
