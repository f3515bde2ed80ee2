"""The generated history behaves like a sales organisation, and its tables agree with each other."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from simulator.catalogue import CHANNELS, CITIES, FX_CURRENCIES, LOSS_REASONS, OPEN_STAGES, STAGES
from tests.simulator.checks import (
    assert_deal_amounts_are_the_sums_of_their_lines,
    assert_stage_histories_chain_to_the_current_stage,
    by,
)
from tests.simulator.conftest import END_DATE, MEDIUM_SCALE

CLOCK_END = datetime.combine(END_DATE, datetime.min.time()) + timedelta(days=1)
ORDER = {stage: i for i, stage in enumerate(STAGES)}


def test_status_stage_loss_reason_and_closed_at_agree(rows):
    for deal in rows("opportunities"):
        status = {"won": "won", "lost": "lost"}.get(deal["stage"], "open")
        assert deal["status"] == status, deal
        assert (deal["loss_reason"] is not None) == (status == "lost"), deal
        assert deal["loss_reason"] in (None, *LOSS_REASONS)
        assert (deal["closed_at"] is not None) == (status != "open"), deal
        if deal["closed_at"]:
            assert deal["created_at"] <= deal["closed_at"] < CLOCK_END
    assert {d["status"] for d in rows("opportunities")} == {"open", "won", "lost"}


def test_stage_history_chains_from_creation_to_the_current_stage(rows):
    assert_stage_histories_chain_to_the_current_stage(rows)


def test_some_deals_skip_a_stage_and_some_go_back_one(rows):
    kinds = Counter()
    for move in rows("opportunity_stage_history"):
        if move["from_stage"] and move["to_stage"] != "lost":
            kinds[ORDER[move["to_stage"]] - ORDER[move["from_stage"]]] += 1
    assert kinds[2] > 0 and kinds[-1] > 0
    assert set(kinds) <= {-1, 1, 2}


def test_a_deal_amount_is_the_sum_of_its_lines(rows):
    assert_deal_amounts_are_the_sums_of_their_lines(rows)


def test_unit_prices_are_near_list_price_in_the_deals_currency(rows):
    list_price = {p["product_id"]: p["list_price"] for p in rows("products")}
    currency = {d["opportunity_id"]: d["currency"] for d in rows("opportunities")}
    for line in rows("opportunity_products"):
        ratio = line["unit_price"] / list_price[line["product_id"]]
        expected = {"USD": (0.9, 1.15), "CNY": (6.0, 8.5), "EUR": (0.8, 1.1)}[currency[line["opportunity_id"]]]
        assert expected[0] <= ratio <= expected[1], line


def test_most_wins_have_one_contract_for_the_deals_amount_and_a_few_contracts_have_no_deal(rows):
    deals = {d["opportunity_id"]: d for d in rows("opportunities")}
    contracts = rows("contracts")
    from_deals = Counter(c["opportunity_id"] for c in contracts if c["opportunity_id"] is not None)
    won = [d for d in deals.values() if d["status"] == "won"]
    assert max(from_deals.values()) == 1
    assert all(deals[i]["status"] == "won" for i in from_deals)
    assert len(from_deals) >= 0.85 * len(won)
    assert any(c["opportunity_id"] is None for c in contracts)
    for contract in contracts:
        assert contract["contract_no"] == f"HT-{contract['signed_date'].year}-{contract['contract_id']:06d}"
        assert contract["signed_date"] <= contract["start_date"] <= contract["end_date"]
        assert contract["status"] in ("active", "completed", "cancelled")
        if contract["opportunity_id"] is not None:
            deal = deals[contract["opportunity_id"]]
            assert (contract["amount"], contract["currency"], contract["customer_id"]) == (
                deal["amount"],
                deal["currency"],
                deal["customer_id"],
            )
            assert timedelta(0) <= contract["created_at"] - deal["closed_at"] <= timedelta(days=10)
        if contract["status"] == "completed":
            assert contract["end_date"] < END_DATE


def test_installments_add_up_to_the_contract_amount(rows):
    plans = by(rows("payment_plans"), "contract_id")
    for contract in rows("contracts"):
        mine = sorted(plans[contract["contract_id"]], key=lambda p: p["installment_no"])
        assert 1 <= len(mine) <= 4
        assert [p["installment_no"] for p in mine] == list(range(1, len(mine) + 1))
        assert sum(p["amount"] for p in mine) == contract["amount"]
        assert all(a["due_date"] < b["due_date"] for a, b in zip(mine, mine[1:]))


def test_payments_are_on_time_late_partial_missing_or_unplanned(medium_rows):
    plans = {p["plan_id"]: p for p in medium_rows("payment_plans")}
    payments = medium_rows("payments")
    paid = by([p for p in payments if p["plan_id"] is not None], "plan_id")
    due = [p for p in plans.values() if p["due_date"] < END_DATE - timedelta(days=200)]
    assert all(p["contract_id"] == plans[p["plan_id"]]["contract_id"] for p in payments if p["plan_id"] is not None)
    assert all(p["amount"] > 0 and p["paid_date"] <= END_DATE for p in payments)
    on_time = [
        p for p in due if paid[p["plan_id"]] and max(x["paid_date"] for x in paid[p["plan_id"]]) <= p["due_date"]
    ]
    late = [p for p in due if any(x["paid_date"] > p["due_date"] for x in paid[p["plan_id"]])]
    partial = [p for p in due if paid[p["plan_id"]] and sum(x["amount"] for x in paid[p["plan_id"]]) < p["amount"]]
    missing = [p for p in due if not paid[p["plan_id"]]]
    assert 0.45 < len(on_time) / len(due) < 0.8
    assert 0.1 < len(late) / len(due) < 0.4
    assert partial and missing
    assert 0.01 < sum(p["plan_id"] is None for p in payments) / len(payments) < 0.06
    per_contract = len(payments) / len(medium_rows("contracts"))
    assert 2.0 < per_contract < 3.5


def test_invoices_bill_installments_of_their_contract(rows):
    plan_amounts = {(p["contract_id"], p["amount"]) for p in rows("payment_plans")}
    assert all((i["contract_id"], i["amount"]) in plan_amounts for i in rows("invoices"))


def test_proportions_follow_the_scale(medium_rows):
    deals = MEDIUM_SCALE
    assert len(medium_rows("opportunities")) == deals
    assert 4 <= len(medium_rows("opportunity_stage_history")) / deals <= 6
    assert 8 <= len(medium_rows("activities")) / deals <= 12
    assert 0.20 <= sum(d["status"] == "won" for d in medium_rows("opportunities")) / deals <= 0.32
    assert len(medium_rows("customers")) == deals // 4
    assert 1.7 <= len(medium_rows("contacts")) / len(medium_rows("customers")) <= 2.3
    assert len(medium_rows("users")) == 8 and len(medium_rows("products")) == 20


def test_a_fifth_of_the_accounts_sit_in_the_public_pool(medium_rows):
    customers = medium_rows("customers")
    assert 0.15 <= sum(c["owner_user_id"] is None for c in customers) / len(customers) <= 0.25


def test_lead_channels_convert_differently(medium_rows):
    closed = [d for d in medium_rows("opportunities") if d["status"] != "open"]
    win_rate = {
        channel: sum(d["status"] == "won" for d in deals) / len(deals)
        for channel, deals in by(closed, "source").items()
    }
    assert set(win_rate) == {c.name for c in CHANNELS}
    assert win_rate["referral"] > win_rate["website"] + 0.1 > win_rate["cold_call"] + 0.1


def test_accounts_are_in_real_cities_of_their_province_and_region(rows):
    places = {(c.name, c.province, c.region) for c in CITIES}
    for customer in rows("customers"):
        assert (customer["city"], customer["province"], customer["region"]) in places
        assert customer["level"] in ("A", "B", "C") and customer["source"] in {c.name for c in CHANNELS}


def test_the_department_tree_and_reporting_lines_hold(rows):
    departments = {d["department_id"]: d for d in rows("departments")}
    users = {u["user_id"]: u for u in rows("users")}
    roots = [d for d in departments.values() if d["parent_department_id"] is None]
    assert len(roots) == 1 and 4 <= len(departments) <= 20
    assert all(d["parent_department_id"] in departments for d in departments.values() if d not in roots)
    assert sum(u["manager_user_id"] is None for u in users.values()) == 1
    assert all(
        u["manager_user_id"] in users and u["department_id"] in departments
        for u in users.values()
        if u["manager_user_id"] is not None
    )


def test_follow_ups_are_by_the_deal_owner_within_the_deals_life(rows):
    deals = {d["opportunity_id"]: d for d in rows("opportunities")}
    activities = rows("activities")
    assert any(a["opportunity_id"] is None for a in activities)
    for activity in activities:
        if activity["opportunity_id"] is not None:
            deal = deals[activity["opportunity_id"]]
            assert (activity["user_id"], activity["customer_id"]) == (deal["owner_user_id"], deal["customer_id"])
            assert deal["created_at"] < activity["occurred_at"] <= (deal["closed_at"] or CLOCK_END)
    assert {a["activity_type"] for a in activities} == {"call", "visit", "email", "meeting", "demo"}


def test_fx_rates_cover_every_day_for_every_foreign_currency_and_omit_the_reporting_one(rows, medium_rows):
    fx = rows("fx_rates")
    days = (END_DATE - min(r["rate_date"] for r in fx)).days + 1
    assert Counter(r["currency"] for r in fx) == {code: days for code in FX_CURRENCIES}
    assert "USD" not in {r["currency"] for r in fx}
    for table in ("opportunities", "contracts", "marketing_spend"):
        assert {r["currency"] for r in medium_rows(table)} == {"USD", "CNY", "EUR"}, table


def test_paid_channels_have_monthly_spend_and_referrals_and_partners_none(rows):
    spend = by(rows("marketing_spend"), "channel")
    assert set(spend) == {c.name for c in CHANNELS if c.acquisition_cost is not None}
    assert {"referral", "partner"}.isdisjoint(spend)
    # Spend is booked after its month: Nov 2024 to Oct 2026.
    assert all(
        len(months) == 24 and all(m["spend_month"].day == 1 and m["amount"] > 0 for m in months)
        for months in spend.values()
    )


def test_every_active_rep_has_a_target_for_every_month(rows):
    active = {u["user_id"] for u in rows("users") if u["is_active"]}
    targets = rows("sales_targets")
    months = {t["target_month"] for t in targets}
    assert Counter((t["user_id"], t["target_month"]) for t in targets) == {(u, m): 1 for u in active for m in months}
    # Every month the period touches (Nov 2024 to Nov 2026); December's is set after the end date.
    assert len(months) == 25 and all(m.day == 1 for m in months) and max(months) == END_DATE.replace(day=1)


def test_surveys_score_one_to_five_and_sometimes_name_no_product(medium_rows):
    surveys = medium_rows("satisfaction_surveys")
    assert {s["score"] for s in surveys} == {1, 2, 3, 4, 5}
    assert 0.15 < sum(s["product_id"] is None for s in surveys) / len(surveys) < 0.5


@pytest.mark.parametrize("table", ["customers", "opportunities", "contracts", "activities", "payments"])
def test_nothing_happens_after_the_end_date_and_a_few_rows_are_soft_deleted(medium_rows, table):
    table_rows = medium_rows(table)
    assert max(r["updated_at"] for r in table_rows) < CLOCK_END
    assert 0 < sum(r["is_deleted"] for r in table_rows) < 0.05 * len(table_rows)


def test_open_deals_are_at_open_stages(rows):
    assert {d["stage"] for d in rows("opportunities") if d["status"] == "open"} <= set(OPEN_STAGES)


def test_planned_work_happens_on_working_days(medium_rows):
    def weekday(day) -> bool:
        return day.weekday() < 5

    assert all(
        weekday(m["changed_at"]) for m in medium_rows("opportunity_stage_history") if m["from_stage"] is not None
    )
    assert all(weekday(c["signed_date"]) for c in medium_rows("contracts") if c["opportunity_id"] is not None)
    assert all(weekday(p["paid_date"]) for p in medium_rows("payments"))
    created = [d["created_at"] for d in medium_rows("opportunities")]
    assert 0 < sum(not weekday(c) for c in created) < 0.06 * len(created)
