"""The four metric marts on a small hand-made CRM, against figures worked out by hand (domain.md §2).

One `dbt build` (models and data tests) over the raw tables below, as of 2024-03-15, then each mart read
back and compared with the arithmetic in the comments. 2024 is a leap year: February has 29 days.

The CRM, in short (all money in USD, the reporting currency):
  reps 1, 2, 3
  customers  c1 rep 1 (Jan 5)   c2 rep 1 (Feb 10)   c3 rep 2 (Feb 20)   c4 public pool (Mar 1)   c5 deleted
  opportunities (amount, created → closed, stages in history order)
    o1 rep 1  10000  Jan 10 → won Feb 9     lead, qualified (skips contacted), proposal, won
    o2 rep 1   5000  Jan 15 → lost Feb 20   lead, contacted, negotiation, lost
    o3 rep 2   8000  Feb 12, open           lead, qualified, proposal, back to qualified, proposal again
    o4 rep 2   4000  Mar 2, open            lead, negotiation (skips three stages)
    o5 rep 2   6000  Feb 25 → won Mar 6     lead, proposal, won
    o6 rep 1   1000  Mar 5, open            no history; its stage 'mystery' is not in the catalogue
    o7 rep 1  99999  deleted
    o8 rep 3   2000  Mar 1 → won Mar 13     lead, won
    o9 rep 3    500  Mar 4 → lost Mar 8     lead, contacted, lost
  contracts  k6 rep 1 3000 (2023-11-20)  k1 rep 1 10000 (Feb 10)  k2 rep 2 6000 (Mar 7)
             k3 rep 3 2000 (Mar 12)  k4 rep 1 6000 (Mar 10)  k5 deleted
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.support.dbt import run_dbt
from tests.support.raw_fixture import write_raw_tables

AS_OF_DATE = "2024-03-15"


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _opportunity(
    opportunity_id: int,
    owner: int,
    customer: int,
    amount: str,
    stage: str,
    status: str,
    created: str,
    closed: str | None = None,
    *,
    deleted: bool = False,
) -> dict:
    return {
        "opportunity_id": opportunity_id,
        "customer_id": customer,
        "owner_user_id": owner,
        "name": f"o{opportunity_id}",
        "source": "web",
        "stage": stage,
        "amount": Decimal(amount),
        "currency": "USD",
        "status": status,
        "loss_reason": "price" if status == "lost" else None,
        "created_at": _ts(created),
        "closed_at": _ts(closed) if closed else None,
        "is_deleted": deleted,
    }


def _history(opportunity_id: int, *changes: tuple[str, str]) -> list[dict]:
    """Stage changes in order: (to_stage, changed_at); from_stage is the previous to_stage."""
    rows, previous = [], None
    for to_stage, changed_at in changes:
        rows.append(
            {
                "history_id": opportunity_id * 100 + len(rows) + 1,
                "opportunity_id": opportunity_id,
                "from_stage": previous,
                "to_stage": to_stage,
                "changed_at": _ts(changed_at),
            }
        )
        previous = to_stage
    return rows


def _contract(
    contract_id: int,
    customer: int,
    owner: int,
    amount: str,
    signed: str,
    opportunity: int | None = None,
    *,
    deleted: bool = False,
) -> dict:
    return {
        "contract_id": contract_id,
        "contract_no": f"K{contract_id}",
        "opportunity_id": opportunity,
        "customer_id": customer,
        "owner_user_id": owner,
        "amount": Decimal(amount),
        "currency": "USD",
        "signed_date": _d(signed),
        "start_date": _d(signed),
        "end_date": None,
        "status": "active",
        "created_at": _ts(signed + " 10:00"),
        "is_deleted": deleted,
    }


def _payment(
    payment_id: int, contract: int, plan: int | None, amount: str, paid: str, *, deleted: bool = False
) -> dict:
    return {
        "payment_id": payment_id,
        "contract_id": contract,
        "plan_id": plan,
        "amount": Decimal(amount),
        "paid_date": _d(paid),
        "method": "bank_transfer",
        "is_deleted": deleted,
    }


RAW_TABLES: dict[str, list[dict]] = {
    "departments": [{"department_id": 1, "name": "Sales"}],
    "users": [
        {
            "user_id": u,
            "name": f"rep {u}",
            "email": f"rep{u}@example.com",
            "department_id": 1,
            "region": "east",
            "hired_at": _ts("2023-01-01 09:00"),
            "is_active": True,
        }
        for u in (1, 2, 3)
    ],
    "customers": [
        {
            "customer_id": 1,
            "name": "c1",
            "region": "east",
            "level": "A",
            "source": "web",
            "owner_user_id": 1,
            "created_at": _ts("2024-01-05 10:00"),
            "is_deleted": False,
        },
        {
            "customer_id": 2,
            "name": "c2",
            "region": "east",
            "level": "B",
            "source": "web",
            "owner_user_id": 1,
            "created_at": _ts("2024-02-10 10:00"),
            "is_deleted": False,
        },
        {
            "customer_id": 3,
            "name": "c3",
            "region": "west",
            "level": "B",
            "source": "fair",
            "owner_user_id": 2,
            "created_at": _ts("2024-02-20 10:00"),
            "is_deleted": False,
        },
        {
            "customer_id": 4,
            "name": "c4",
            "region": "west",
            "level": "C",
            "source": "fair",
            "owner_user_id": None,
            "created_at": _ts("2024-03-01 10:00"),
            "is_deleted": False,
        },
        {
            "customer_id": 5,
            "name": "c5",
            "region": "west",
            "level": "C",
            "source": "fair",
            "owner_user_id": 2,
            "created_at": _ts("2024-03-03 10:00"),
            "is_deleted": True,
        },
    ],
    "opportunities": [
        _opportunity(1, 1, 1, "10000", "won", "won", "2024-01-10 09:00", "2024-02-09 15:00"),
        _opportunity(2, 1, 1, "5000", "lost", "lost", "2024-01-15 09:00", "2024-02-20 15:00"),
        _opportunity(3, 2, 2, "8000", "proposal", "open", "2024-02-12 09:00"),
        _opportunity(4, 2, 3, "4000", "negotiation", "open", "2024-03-02 09:00"),
        _opportunity(5, 2, 3, "6000", "won", "won", "2024-02-25 09:00", "2024-03-06 15:00"),
        _opportunity(6, 1, 2, "1000", "mystery", "open", "2024-03-05 09:00"),
        _opportunity(7, 1, 1, "99999", "contacted", "open", "2024-01-20 09:00", deleted=True),
        _opportunity(8, 3, 1, "2000", "won", "won", "2024-03-01 09:00", "2024-03-13 15:00"),
        _opportunity(9, 3, 2, "500", "lost", "lost", "2024-03-04 09:00", "2024-03-08 15:00"),
    ],
    "opportunity_stage_history": [
        *_history(
            1,
            ("lead", "2024-01-10 09:00"),
            ("qualified", "2024-01-20 09:00"),
            ("proposal", "2024-01-25 09:00"),
            ("won", "2024-02-09 15:00"),
        ),
        *_history(
            2,
            ("lead", "2024-01-15 09:00"),
            ("contacted", "2024-01-22 09:00"),
            ("negotiation", "2024-02-05 09:00"),
            ("lost", "2024-02-20 15:00"),
        ),
        *_history(
            3,
            ("lead", "2024-02-12 09:00"),
            ("qualified", "2024-02-15 09:00"),
            ("proposal", "2024-02-20 09:00"),
            ("qualified", "2024-02-27 09:00"),
            ("proposal", "2024-03-05 09:00"),
        ),
        *_history(4, ("lead", "2024-03-02 09:00"), ("negotiation", "2024-03-10 09:00")),
        *_history(5, ("lead", "2024-02-25 09:00"), ("proposal", "2024-03-01 09:00"), ("won", "2024-03-06 15:00")),
        *_history(7, ("lead", "2024-01-20 09:00"), ("contacted", "2024-01-21 09:00")),
        *_history(8, ("lead", "2024-03-01 09:00"), ("won", "2024-03-13 15:00")),
        *_history(9, ("lead", "2024-03-04 09:00"), ("contacted", "2024-03-06 09:00"), ("lost", "2024-03-08 15:00")),
    ],
    "contracts": [
        _contract(6, 2, 1, "3000", "2023-11-20"),
        _contract(1, 1, 1, "10000", "2024-02-10", opportunity=1),
        _contract(2, 3, 2, "6000", "2024-03-07", opportunity=5),
        _contract(3, 1, 3, "2000", "2024-03-12", opportunity=8),
        _contract(4, 2, 1, "6000", "2024-03-10"),
        _contract(5, 3, 2, "50000", "2024-03-01", deleted=True),
    ],
    "payment_plans": [
        {"plan_id": 1, "contract_id": 1, "installment_no": 1, "due_date": _d("2024-02-15"), "amount": Decimal("5000")},
        {"plan_id": 2, "contract_id": 1, "installment_no": 2, "due_date": _d("2024-02-20"), "amount": Decimal("5000")},
        {"plan_id": 3, "contract_id": 2, "installment_no": 1, "due_date": _d("2024-03-31"), "amount": Decimal("6000")},
        {"plan_id": 4, "contract_id": 6, "installment_no": 1, "due_date": _d("2023-12-01"), "amount": Decimal("1500")},
        {"plan_id": 5, "contract_id": 6, "installment_no": 2, "due_date": _d("2024-01-05"), "amount": Decimal("1500")},
        {"plan_id": 6, "contract_id": 6, "installment_no": 3, "due_date": _d("2024-02-01"), "amount": Decimal("100")},
    ],
    "payments": [
        _payment(1, 1, 1, "5000", "2024-02-14"),
        _payment(2, 1, 2, "2000", "2024-03-01"),
        _payment(3, 2, None, "1000", "2024-03-05"),
        _payment(4, 6, 5, "500", "2024-01-20"),
        _payment(5, 6, 5, "1000", "2024-02-01", deleted=True),
        _payment(6, 3, None, "2000", "2024-03-12"),
    ],
    "activities": [
        {
            "activity_id": 1,
            "customer_id": 1,
            "user_id": 1,
            "activity_type": "call",
            "occurred_at": _ts("2024-01-12 10:00"),
            "is_deleted": False,
        },
        {
            "activity_id": 2,
            "customer_id": 2,
            "user_id": 1,
            "activity_type": "visit",
            "occurred_at": _ts("2024-03-03 10:00"),
            "is_deleted": False,
        },
        {
            "activity_id": 3,
            "customer_id": 3,
            "user_id": 2,
            "activity_type": "call",
            "occurred_at": _ts("2024-03-04 10:00"),
            "is_deleted": False,
        },
        {
            "activity_id": 4,
            "customer_id": 3,
            "user_id": 2,
            "activity_type": "email",
            "occurred_at": _ts("2024-03-05 10:00"),
            "is_deleted": False,
        },
        {
            "activity_id": 5,
            "customer_id": 1,
            "user_id": 3,
            "activity_type": "demo",
            "occurred_at": _ts("2024-03-06 10:00"),
            "is_deleted": True,
        },
        {
            "activity_id": 6,
            "customer_id": 1,
            "user_id": 3,
            "activity_type": "meeting",
            "occurred_at": _ts("2024-02-15 10:00"),
            "is_deleted": False,
        },
    ],
    "sales_targets": [
        {
            "user_id": 1,
            "target_month": _d("2024-02-01"),
            "contract_amount_target": Decimal("8000"),
            "payment_amount_target": Decimal("5000"),
            "new_customer_target": 1,
        },
        {
            "user_id": 1,
            "target_month": _d("2024-03-01"),
            "contract_amount_target": Decimal("12000"),
            "payment_amount_target": Decimal("4000"),
            "new_customer_target": 2,
        },
        {
            "user_id": 2,
            "target_month": _d("2024-03-01"),
            "contract_amount_target": Decimal("4000"),
            "payment_amount_target": Decimal("0"),
            "new_customer_target": None,
        },
        {
            "user_id": 2,
            "target_month": _d("2024-04-01"),
            "contract_amount_target": Decimal("1000"),
            "payment_amount_target": Decimal("1000"),
            "new_customer_target": 1,
        },
    ],
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("metric_marts") / "warehouse.duckdb"
    write_raw_tables(path, RAW_TABLES)
    run_dbt(["build"], warehouse_path=path, as_of_date=AS_OF_DATE)
    return path


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _floats(rows: list[tuple]) -> list[tuple]:
    """Decimals as floats, so expected values can be written as plain numbers (rates rounded to 6 places)."""
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def test_sales_funnel_counts_skipped_and_revisited_stages_once_and_ignores_deleted(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select stage, stage_order, opportunities_reached, amount_reached, stage_conversion_rate, overall_conversion_rate
        from marts.mart_sales_funnel order by stage_order
    """,
        )
    )
    # Furthest funnel stage reached: o1, o5, o8 won (6); o2 negotiation (lost does not count); o4 negotiation
    # (skipped 2-4 count); o3 proposal (went back to qualified: takes nothing away); o9 contacted; o6 only an
    # unknown stage, so the first stage. o7 is deleted.
    #   lead        8 = all                      36500 = 10000+5000+8000+4000+6000+1000+2000+500
    #   contacted   7 = all but o6               35500 = 36500 - 1000
    #   qualified   6 = all but o6, o9           35000 = 35500 - 500
    #   proposal    6                            35000
    #   negotiation 5 = o1, o2, o4, o5, o8       27000 = 35000 - 8000 (o3)
    #   won         3 = o1, o5, o8               18000 = 10000 + 6000 + 2000
    # Stage conversion: -, 7/8 = 0.875, 6/7 = 0.857143, 6/6 = 1, 5/6 = 0.833333, 3/5 = 0.6.
    # Overall: 8/8 = 1, 0.875, 6/8 = 0.75, 0.75, 5/8 = 0.625, 3/8 = 0.375.
    assert rows == [
        ("lead", 1, 8, 36500.0, None, 1.0),
        ("contacted", 2, 7, 35500.0, 0.875, 0.875),
        ("qualified", 3, 6, 35000.0, 0.857143, 0.75),
        ("proposal", 4, 6, 35000.0, 1.0, 0.75),
        ("negotiation", 5, 5, 27000.0, 0.833333, 0.625),
        ("won", 6, 3, 18000.0, 0.6, 0.375),
    ]


def test_opportunity_kpis_monthly_from_first_opportunity_month_to_as_of_month(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select month_start, new_opportunities, won_opportunities, lost_opportunities, win_rate, won_amount,
               avg_deal_size, avg_sales_cycle_days, median_sales_cycle_days,
               open_pipeline_amount, weighted_pipeline_amount, pipeline_date
        from marts.mart_opportunity_kpis_monthly order by month_start
    """,
        )
    )
    # January: created o1, o2 (o7 deleted) = 2; nothing closed → win rate null, won amount 0.
    #   Open on Jan 31: o1 (in proposal since Jan 25: 10000 × 0.6 = 6000), o2 (contacted since Jan 22:
    #   5000 × 0.2 = 1000) → open 15000, weighted 7000.
    # February: created o3, o5 = 2; closed o1 won, o2 lost → 1 / 2 = 0.5; won 10000, deal size 10000;
    #   cycle of o1 Jan 10 → Feb 9 = 21 + 9 = 30 days (mean and median).
    #   Open on Feb 29: o3 (back in qualified since Feb 27: 8000 × 0.4 = 3200), o5 (lead since Feb 25:
    #   6000 × 0.1 = 600) → open 14000, weighted 3800.
    # March: created o4, o6, o8, o9 = 4; closed o5, o8 won, o9 lost → 2 / 3 = 0.666667; won 6000 + 2000 =
    #   8000, deal size 4000; cycles o5 Feb 25 → Mar 6 = 10, o8 Mar 1 → Mar 13 = 12 → mean 11, median 11.
    #   Open on the as-of date Mar 15: o3 (proposal since Mar 5: 8000 × 0.6 = 4800), o4 (negotiation since
    #   Mar 10: 4000 × 0.8 = 3200), o6 (1000, stage unknown to the catalogue: weighs 0) → open 13000,
    #   weighted 8000.
    # No row for November 2023 (a contract, but no opportunity yet) nor for April (after the as-of month).
    assert rows == [
        (date(2024, 1, 1), 2, 0, 0, None, 0.0, None, None, None, 15000.0, 7000.0, date(2024, 1, 31)),
        (date(2024, 2, 1), 2, 1, 1, 0.5, 10000.0, 10000.0, 30.0, 30.0, 14000.0, 3800.0, date(2024, 2, 29)),
        (date(2024, 3, 1), 4, 2, 1, 0.666667, 8000.0, 4000.0, 11.0, 11.0, 13000.0, 8000.0, date(2024, 3, 15)),
    ]


def test_rep_performance_monthly_targets_completion_and_ranks(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select month_start, user_id, new_customers, follow_ups, new_opportunities, won_opportunities,
               contracts_signed, contract_amount, payment_amount,
               contract_amount_target, payment_amount_target, new_customer_target,
               contract_target_completion, payment_target_completion, new_customer_target_completion,
               rank_contract_amount, rank_payment_amount, rank_contracts_signed, rank_new_customers
        from marts.mart_rep_performance_monthly order by month_start, user_id
    """,
        )
    )
    n = None
    assert rows == [
        # Nov 2023: rep 1 signed k6 (3000); alone in the month, first everywhere.
        (date(2023, 11, 1), 1, 0, 0, 0, 0, 1, 3000.0, 0.0, n, n, n, n, n, n, 1, 1, 1, 1),
        # Jan: rep 1 - customer c1, activity a1, opportunities o1 and o2 (o7 deleted), payment 500 against k6
        #   (the deleted payment of 1000 counts nowhere); no target.
        (date(2024, 1, 1), 1, 1, 1, 2, 0, 0, 0.0, 500.0, n, n, n, n, n, n, 1, 1, 1, 1),
        # Feb: rep 1 - customer c2, o1 won, k1 10000, payment 5000; targets 8000 / 5000 / 1 →
        #   10000 / 8000 = 1.25, 5000 / 5000 = 1, 1 / 1 = 1.
        #   rep 2 - customer c3, opportunities o3 and o5. rep 3 - activity a6.
        #   Ranks: contract amount 10000, 0, 0 → 1, 2, 2; payments 5000, 0, 0 → 1, 2, 2; contracts 1, 0, 0 →
        #   1, 2, 2; new customers 1, 1, 0 → 1, 1, 3.
        (date(2024, 2, 1), 1, 1, 0, 0, 1, 1, 10000.0, 5000.0, 8000.0, 5000.0, 1, 1.25, 1.0, 1.0, 1, 1, 1, 1),
        (date(2024, 2, 1), 2, 1, 0, 2, 0, 0, 0.0, 0.0, n, n, n, n, n, n, 2, 2, 2, 1),
        (date(2024, 2, 1), 3, 0, 1, 0, 0, 0, 0.0, 0.0, n, n, n, n, n, n, 2, 2, 2, 3),
        # Mar: rep 1 - activity a2, o6, k4 6000, payment 2000 (plan 2); targets 12000 / 4000 / 2 →
        #   6000 / 12000 = 0.5, 2000 / 4000 = 0.5, 0 / 2 = 0.
        #   rep 2 - activities a3, a4, o4, o5 won, k2 6000 (k5 deleted), payment 1000; targets 4000 / 0 / none →
        #   6000 / 4000 = 1.5, payment target 0 → null, no customer target → null.
        #   rep 3 - o8 (won) and o9, k3 2000, payment 2000 (a5 deleted); no target → nulls.
        #   Ranks: contract amount 6000, 6000, 2000 → 1, 1, 3; payments 2000, 1000, 2000 → 1, 3, 1;
        #   contracts 1, 1, 1 → 1, 1, 1; new customers 0, 0, 0 → 1, 1, 1.
        (date(2024, 3, 1), 1, 0, 1, 1, 0, 1, 6000.0, 2000.0, 12000.0, 4000.0, 2, 0.5, 0.5, 0.0, 1, 1, 1, 1),
        (date(2024, 3, 1), 2, 0, 2, 1, 1, 1, 6000.0, 1000.0, 4000.0, 0.0, n, 1.5, n, n, 1, 3, 1, 1),
        (date(2024, 3, 1), 3, 0, 0, 2, 1, 1, 2000.0, 2000.0, n, n, n, n, n, n, 3, 1, 1, 1),
        # Apr: rep 2 has only a target (1000 / 1000 / 1): a row of zeros, completion 0.
        (date(2024, 4, 1), 2, 0, 0, 0, 0, 0, 0.0, 0.0, 1000.0, 1000.0, 1, 0.0, 0.0, 0.0, 1, 1, 1, 1),
    ]


def test_receivables_aging_as_of_date(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select plan_id, contract_id, customer_id, owner_user_id, due_date, due_amount, paid_amount,
               receivable_amount, days_overdue, aging_bucket
        from marts.mart_receivables_aging order by plan_id
    """,
        )
    )
    assert rows == [
        # Fully paid (5000 - 5000): receivable exactly 0, not overdue although due Feb 15.
        (1, 1, 1, 1, date(2024, 2, 15), 5000.0, 5000.0, 0.0, 0, "current"),
        # Partly paid (5000 - 2000 = 3000), due Feb 20 → Mar 15 = 9 + 15 = 24 days.
        (2, 1, 1, 1, date(2024, 2, 20), 5000.0, 2000.0, 3000.0, 24, "1-30"),
        # Due Mar 31, after the as-of date: not overdue yet.
        (3, 2, 3, 2, date(2024, 3, 31), 6000.0, 0.0, 6000.0, 0, "current"),
        # Due 2023-12-01, nothing paid: 31 + 31 + 29 + 14 = 105 days.
        (4, 6, 2, 1, date(2023, 12, 1), 1500.0, 0.0, 1500.0, 105, "90+"),
        # 1500 - 500 (the deleted payment of 1000 does not count) = 1000; Jan 5 → Mar 15 = 31 + 29 + 10 = 70.
        (5, 6, 2, 1, date(2024, 1, 5), 1500.0, 500.0, 1000.0, 70, "61-90"),
        # Due Feb 1, nothing paid: 29 + 14 = 43 days.
        (6, 6, 2, 1, date(2024, 2, 1), 100.0, 0.0, 100.0, 43, "31-60"),
    ]


# --- the marts of the metric layer (issue 4), on the same CRM -----------------------------------------------------


def test_collections_monthly_partial_payments_and_payments_without_plan(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select month_start, installments_due, due_amount, paid_against_due, collection_rate,
               payments_received, payments_without_plan
        from marts.mart_collections_monthly order by month_start
    """,
        )
    )
    assert rows == [
        # Plan 4 (1500, nothing paid): rate 0, not null.
        (date(2023, 12, 1), 1, 1500.0, 0.0, 0.0, 0.0, 0.0),
        # Plan 5: 1500 due, 500 paid (the deleted 1000 counts nowhere) → 1/3. Received in Jan: payment 4, 500.
        (date(2024, 1, 1), 1, 1500.0, 500.0, 0.333333, 500.0, 0.0),
        # Plans 6, 1, 2: 100 + 5000 + 5000 = 10100 due; 0 + 5000 + 2000 = 7000 paid → 0.693069. Received: 5000.
        (date(2024, 2, 1), 3, 10100.0, 7000.0, 0.693069, 5000.0, 0.0),
        # Plan 3: 6000, nothing against it (payment 3 has no plan). Received: 2000 + 1000 + 2000 = 5000, of
        # which 1000 + 2000 = 3000 with no plan.
        (date(2024, 3, 1), 1, 6000.0, 0.0, 0.0, 5000.0, 3000.0),
    ]


def test_customer_value_clv_and_historical_value(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select customer_id, contracts, total_contract_amount, total_paid, is_repeat, customer_years,
               avg_lifetime_years, clv
        from marts.mart_customer_value order by customer_id
    """,
        )
    )
    assert rows == [
        # c1: contracts 1 (10000) and 3 (2000), paid 5000 + 2000 + 2000; first contract Feb 10 → 34 days,
        # counted as one year → 2 contracts a year; CLV 6000 × 2 × 1 = 12000.
        (1, 2, 12000.0, 9000.0, True, 1.0, 1.0, 12000.0),
        # c2: contracts 6 (3000, 2023-11-20: 116 days → one year) and 4 (6000); paid 500 → CLV 4500 × 2 × 1.
        (2, 2, 9000.0, 500.0, True, 1.0, 1.0, 9000.0),
        # c3: contract 2 (6000; the deleted 50000 counts nowhere); paid 1000 → CLV 6000 × 1 × 1.
        (3, 1, 6000.0, 1000.0, False, 1.0, 1.0, 6000.0),
        # c4: no contract → CLV null. c5 is deleted: no row.
        (4, 0, 0.0, 0.0, False, None, 1.0, None),
    ]


def test_lead_source_monthly_without_marketing_spend(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select month_start, source, opportunities_created, opportunities_won, opportunities_lost, win_rate,
               won_amount, new_customers, marketing_spend, cac
        from marts.mart_lead_source_monthly order by month_start, source
    """,
        )
    )
    n = None
    # Every opportunity is from 'web'; the marketing_spend table is empty: spend and CAC are null everywhere.
    assert rows == [
        (date(2023, 11, 1), "web", 0, 0, 0, n, 0.0, 1, n, n),  # c2's first contract, 2023-11-20
        (date(2024, 1, 1), "web", 2, 0, 0, n, 0.0, 0, n, n),  # o1, o2 (o7 is deleted)
        (date(2024, 2, 1), "web", 2, 1, 1, 0.5, 10000.0, 1, n, n),  # o3, o5 created; o1 won, o2 lost; c1
        (date(2024, 3, 1), "fair", 0, 0, 0, n, 0.0, 1, n, n),  # c3's first live contract, Mar 7
        # o4, o6, o8, o9 created; o5 (6000) and o8 (2000) won, o9 lost → 2 / 3.
        (date(2024, 3, 1), "web", 4, 2, 1, 0.666667, 8000.0, 0, n, n),
    ]


def test_forgotten_customers_none_within_thirty_days(warehouse: Path) -> None:
    # As of Mar 15: c1's last live activity is Feb 15 (29 days: not more than 30), c2's Mar 3, c3's Mar 5;
    # c4 is in the public pool and c5 is deleted. Nobody is forgotten.
    assert _rows(warehouse, "select customer_id from marts.mart_forgotten_customers") == []


def test_sales_briefing_month_to_date_against_the_team_target(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select date_day, contract_amount, mtd_contract_amount, month_contract_target, mtd_target_completion,
               payment_amount, mtd_payment_amount, month_payment_target, mtd_payment_target_completion
        from marts.mart_sales_briefing_daily where date_day in ('2024-03-12', '2024-03-15') order by date_day
    """,
        )
    )
    assert rows == [
        # Mar 12: contract 3 (2000); month to date 6000 (Mar 7) + 6000 (Mar 10) + 2000 = 14000 (the deleted
        # contract 5 counts nowhere); targets rep 1 12000 + rep 2 4000 = 16000 → 0.875. Payments: 2000 that day,
        # 2000 + 1000 + 2000 = 5000 to date, target 4000 + 0 → 1.25.
        (date(2024, 3, 12), 2000.0, 14000.0, 16000.0, 0.875, 2000.0, 5000.0, 4000.0, 1.25),
        # The as-of date is the last row: nothing that day.
        (date(2024, 3, 15), 0.0, 14000.0, 16000.0, 0.875, 0.0, 5000.0, 4000.0, 1.25),
    ]
    assert _rows(warehouse, "select max(date_day) from marts.mart_sales_briefing_daily") == [(date(2024, 3, 15),)]


def test_the_briefing_adds_up_to_the_leaderboard_month_by_month(warehouse: Path) -> None:
    """The briefing's days of a month sum to the leaderboard's reps of that month, plus what nobody owns.

    Both marts add up int_rep_activity__daily, so this holds by construction; here it is checked on the figures.
    """
    totals = (
        "sum(new_customers), sum(new_opportunities), sum(contracts_signed), sum(contract_amount), sum(payment_amount)"
    )
    leaderboard = _floats(
        _rows(
            warehouse,
            f"select month_start, {totals} from marts.mart_rep_performance_monthly "
            f"where month_start <= '{AS_OF_DATE}' group by month_start order by month_start",
        )
    )
    briefing = _floats(
        _rows(
            warehouse,
            f"select month_start, {totals} from marts.mart_sales_briefing_daily "
            "group by month_start order by month_start",
        )
    )
    # Per month: new customers, new opportunities, contracts signed, contract amount, payments (see the module
    # docstring); a month where nothing happened is in the briefing (every day has a row) with zeros.
    assert leaderboard == [
        (date(2023, 11, 1), 0, 0, 1, 3000.0, 0.0),  # k6
        (date(2024, 1, 1), 1, 2, 0, 0.0, 500.0),  # c1; o1, o2; payment 4
        (date(2024, 2, 1), 2, 2, 1, 10000.0, 5000.0),  # c2, c3; o3, o5; k1; payment 1
        (date(2024, 3, 1), 0, 4, 3, 14000.0, 5000.0),  # o4, o6, o8, o9; k2, k3, k4; payments 2, 3, 6
    ]
    nobodys = {date(2024, 3, 1): (1, 0, 0, 0.0, 0.0)}  # c4, created Mar 1 in the public pool
    expected = [
        (month, *(a + b for a, b in zip(figures, nobodys.get(month, (0, 0, 0, 0.0, 0.0)))))
        for month, *figures in leaderboard
    ]
    assert [row for row in briefing if any(row[1:])] == expected


def test_pipeline_movement_monthly_chains_each_month_from_the_last(warehouse: Path) -> None:
    rows = _floats(
        _rows(warehouse, "select * exclude (movement_end_date) from marts.mart_pipeline_movement_monthly order by 1")
    )
    # (month, opening n, amount, created n, amount, won n, amount, lost n, amount, closing n, amount)
    # January: created o1 10000, o2 5000; nothing closed → closing 2, 15000.
    # February: opens with January's close; created o3 8000, o5 6000; won o1 10000; lost o2 5000 → o3, o5: 2, 14000.
    # March (to the 15th): created o4 4000, o6 1000, o8 2000, o9 500 = 7500; won o5 6000 + o8 2000; lost o9 500 →
    # o3, o4, o6: 3, 13000 = 14000 + 7500 − 8000 − 500 (the open pipeline of mart_opportunity_kpis_monthly).
    assert rows == [
        (date(2024, 1, 1), 0, 0.0, 2, 15000.0, 0, 0.0, 0, 0.0, 2, 15000.0),
        (date(2024, 2, 1), 2, 15000.0, 2, 14000.0, 1, 10000.0, 1, 5000.0, 2, 14000.0),
        (date(2024, 3, 1), 2, 14000.0, 4, 7500.0, 2, 8000.0, 1, 500.0, 3, 13000.0),
    ]


def test_target_pacing_halfway_through_march(warehouse: Path) -> None:
    rows = _floats(
        _rows(
            warehouse,
            """
        select user_id, contract_amount_target, contract_amount, elapsed_days, days_in_month, expected_to_date,
               pacing_ratio, remaining_target, coverage_ratio
        from marts.mart_target_pacing order by user_id
    """,
        )
    )
    # As of Mar 15: 15 of March's 31 days. Rep 1: target 12000 → expected 12000 × 15 / 31 = 5806.45; signed k4
    # 6000 → pacing 6000 / 5806.45 = 1.033334; 6000 remains and no pipeline is due this month → coverage 0.
    # Rep 2: target 4000, signed k2 6000 → 4000 × 15 / 31 = 1935.48, pacing 3.100006; nothing remains → coverage
    # null. Rep 3 has no March contract target: no row.
    assert rows == [
        (1, 12000.0, 6000.0, 15, 31, 5806.45, 1.033334, 6000.0, 0.0),
        (2, 4000.0, 6000.0, 15, 31, 1935.48, 3.100006, 0.0, None),
    ]


def test_slippage_counts_the_pushes_the_snapshot_saw_across_runs_and_a_full_refresh_keeps_them(
    tmp_path: Path,
) -> None:
    """Close-date pushes come from snap_opportunities (domain.md §2): each run records the version it finds, so a
    push between two runs is one more version; a full refresh rebuilds the models but never the snapshot."""
    path = tmp_path / "warehouse.duckdb"
    opportunities = [
        {**row, "expected_close_date": _d("2024-03-10")} if row["opportunity_id"] == 3 else row
        for row in RAW_TABLES["opportunities"]
    ]
    write_raw_tables(path, {**RAW_TABLES, "opportunities": opportunities})
    selection = ["--select", "+mart_opportunity_slippage", "--indirect-selection", "cautious"]

    def push_o3(expected_close: str, updated_at: str) -> None:
        """What the next extract would land: o3 with a later expected close date, changed in the CRM later."""
        with duckdb.connect(str(path)) as con:
            con.execute(
                "update raw.opportunities set expected_close_date = ?, updated_at = ? where opportunity_id = 3",
                [_d(expected_close), _ts(updated_at)],
            )

    def o3_slippage() -> tuple:
        (row,) = _rows(
            path,
            "select expected_close_date, is_past_due, days_past_due, close_date_pushes, first_seen_expected_close_date"
            " from marts.mart_opportunity_slippage where opportunity_id = 3",
        )
        return row

    run_dbt(["build", *selection], warehouse_path=path, as_of_date=AS_OF_DATE)
    # Due Mar 10, as of Mar 15: 5 days past due; the first run saw Mar 10 and no push yet.
    assert o3_slippage() == (_d("2024-03-10"), True, 5, 0, _d("2024-03-10"))

    push_o3("2024-03-31", "2025-01-02 10:00")
    run_dbt(["build", *selection], warehouse_path=path, as_of_date=AS_OF_DATE)
    assert o3_slippage() == (_d("2024-03-31"), False, 0, 1, _d("2024-03-10"))

    push_o3("2024-04-30", "2025-01-03 10:00")
    run_dbt(["build", "--full-refresh", *selection], warehouse_path=path, as_of_date=AS_OF_DATE)
    # Pushed twice across the runs, and the full refresh kept both earlier versions.
    assert o3_slippage() == (_d("2024-04-30"), False, 0, 2, _d("2024-03-10"))
    assert _rows(
        path,
        "select expected_close_date from snapshots.snap_opportunities where opportunity_id = 3 order by dbt_valid_from",
    ) == [(_d("2024-03-10"),), (_d("2024-03-31"),), (_d("2024-04-30"),)]
