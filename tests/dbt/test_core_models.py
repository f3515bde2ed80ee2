"""Staging and core marts (dims and facts) on a small hand-made CRM, every expected value worked out by hand.

The fixture CRM (as-of date 2025-03-31, reporting currency USD, reporting time zone UTC):

fx_rates (rate to USD), forward-filled day by day up to the as-of date:
    EUR 2025-01-01 1.10 | 2025-02-01 1.20 (a stale version said 9.99) | 2025-03-15 1.05 | 2025-04-10 2.00 (after as-of)
    CNY 2025-01-01 0.14 | USD 2025-01-01 0.50 (ignored: the reporting currency is always 1) | GBP: no rate at all
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support.dbt import run_dbt
from tests.support.raw_fixture import write_raw_tables

AS_OF_DATE = "2025-03-31"
BUILD_CORE = ["build", "--select", "staging", "+marts.core"]  # and what the core needs: seed, snapshots, intermediates
SECOND_LOAD_AT = datetime(2025, 1, 2)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def d(text: str) -> date:
    return date.fromisoformat(text)


CRM: dict[str, list[dict[str, Any]]] = {
    "departments": [
        {"department_id": 100, "name": "East Sales", "parent_department_id": None},
    ],
    "users": [
        {
            "user_id": 10,
            "name": "Alice",
            "email": " Alice@Example.com",
            "department_id": 100,
            "region": "East",
            "hired_at": ts("2024-06-01 09:00"),
            "is_active": True,
        },
        {
            "user_id": 11,
            "name": "Bob",
            "email": "bob@example.com",
            "department_id": 100,
            "manager_user_id": 10,
            "region": "East",
            "hired_at": ts("2024-07-01 09:00"),
            "is_active": True,
        },
    ],
    "customers": [
        # Customer 1 arrives twice: the version updated later wins.
        {
            "customer_id": 1,
            "name": "Acme (old)",
            "region": "East",
            "level": "b",
            "source": "web",
            "owner_user_id": 10,
            "created_at": ts("2025-01-05 10:00"),
            "updated_at": ts("2025-01-05 10:00"),
        },
        {
            "customer_id": 1,
            "name": "Acme",
            "industry": "Retail",
            "city": "Shanghai",
            "province": "Shanghai",
            "region": "East",
            "level": " a ",
            "source": " Web ",
            "owner_user_id": 10,
            "created_at": ts("2025-01-05 10:00"),
            "updated_at": ts("2025-02-01 10:00"),
        },
        {
            "customer_id": 2,
            "name": "Beta",
            "region": "West",
            "level": "B",
            "source": "referral",
            "owner_user_id": None,
            "created_at": ts("2025-01-20 08:00"),
        },
        {
            "customer_id": 3,
            "name": "Gone",
            "region": "West",
            "level": "C",
            "source": "web",
            "owner_user_id": 11,
            "created_at": ts("2025-01-21 08:00"),
            "is_deleted": True,
        },
    ],
    "products": [
        {
            "product_id": 500,
            "name": "Widget",
            "category": "Hardware",
            "list_price": Decimal("100.00"),
            "is_active": True,
        },
        {
            "product_id": 501,
            "name": "Setup",
            "category": "Services",
            "list_price": Decimal("460.00"),
            "is_active": True,
        },
    ],
    "opportunities": [
        # 1: won in EUR, closed 2025-02-20 -> EUR rate of 2025-02-01 (1.20): 1000 x 1.20 = 1200.00.
        #    days_to_close: 2025-01-10 -> 2025-02-20 = 21 (rest of Jan) + 20 = 41.
        {
            "opportunity_id": 1,
            "customer_id": 1,
            "owner_user_id": 10,
            "name": "Acme rollout",
            "source": "web",
            "stage": "won",
            "amount": Decimal("1000.00"),
            "currency": "EUR",
            "status": "won",
            "created_at": ts("2025-01-10 09:00"),
            "closed_at": ts("2025-02-20 15:00"),
        },
        # 2: open in USD; two versions, the later one ("  Proposal ", 500) wins -> stage 'proposal', 500.00 at rate 1.
        {
            "opportunity_id": 2,
            "customer_id": 1,
            "owner_user_id": 11,
            "name": "Acme upsell",
            "source": "web",
            "stage": "qualified",
            "amount": Decimal("400.00"),
            "currency": "USD",
            "status": "open",
            "created_at": ts("2025-03-01 09:00"),
            "updated_at": ts("2025-03-01 09:00"),
        },
        {
            "opportunity_id": 2,
            "customer_id": 1,
            "owner_user_id": 11,
            "name": "Acme upsell",
            "source": "web",
            "stage": "  Proposal ",
            "amount": Decimal("500.00"),
            "currency": "usd",
            "status": "OPEN",
            "created_at": ts("2025-03-01 09:00"),
            "updated_at": ts("2025-03-05 09:00"),
        },
        # 3: open in EUR -> the as-of date's rate, 2025-03-15's 1.05 (not 2025-04-10's 2.00): 200 x 1.05 = 210.00.
        {
            "opportunity_id": 3,
            "customer_id": 2,
            "owner_user_id": 10,
            "name": "Beta pilot",
            "source": "referral",
            "stage": "negotiation",
            "amount": Decimal("200.00"),
            "currency": "EUR",
            "status": "open",
            "created_at": ts("2025-02-01 08:00"),
        },
        # 4: lost in CNY, closed 2025-01-15 -> 10000 x 0.14 = 1400.00; days_to_close 2025-01-02 -> 01-15 = 13.
        {
            "opportunity_id": 4,
            "customer_id": 2,
            "owner_user_id": 10,
            "name": "Beta big",
            "source": "referral",
            "stage": "lost",
            "amount": Decimal("10000.00"),
            "currency": "CNY",
            "status": "lost",
            "loss_reason": "price",
            "created_at": ts("2025-01-02 08:00"),
            "closed_at": ts("2025-01-15 08:00"),
        },
        # 5: deleted: absent from every fact, with its line and its stage history.
        {
            "opportunity_id": 5,
            "customer_id": 1,
            "owner_user_id": 10,
            "name": "Mistake",
            "source": "web",
            "stage": "lead",
            "amount": Decimal("50.00"),
            "currency": "USD",
            "status": "open",
            "created_at": ts("2025-03-10 08:00"),
            "is_deleted": True,
        },
        # 6: open in GBP, for which there is no rate: the converted amount is null, never the original amount.
        {
            "opportunity_id": 6,
            "customer_id": 2,
            "owner_user_id": 11,
            "name": "Beta UK",
            "source": "referral",
            "stage": "lead",
            "amount": Decimal("70.00"),
            "currency": "GBP",
            "status": "open",
            "created_at": ts("2025-03-20 08:00"),
        },
    ],
    "opportunity_products": [
        # 2 x 300 x (1 - 10/100) = 540 EUR; x 1.20 (opportunity 1's close-date rate) = 648.00.
        {
            "opportunity_id": 1,
            "product_id": 500,
            "quantity": 2,
            "unit_price": Decimal("300.00"),
            "discount_pct": Decimal("10"),
        },
        # 1 x 460 x 1 = 460 EUR; x 1.20 = 552.00.
        {
            "opportunity_id": 1,
            "product_id": 501,
            "quantity": 1,
            "unit_price": Decimal("460.00"),
            "discount_pct": Decimal("0"),
        },
        # 1 x 200 x (1 - 12.5/100) = 175 EUR; x 1.05 (open: the as-of rate) = 183.75.
        {
            "opportunity_id": 3,
            "product_id": 500,
            "quantity": 1,
            "unit_price": Decimal("200.00"),
            "discount_pct": Decimal("12.5"),
        },
        {
            "opportunity_id": 5,
            "product_id": 500,
            "quantity": 1,
            "unit_price": Decimal("50.00"),
            "discount_pct": Decimal("0"),
        },
    ],
    "opportunity_stage_history": [
        # Opportunity 1 (won): lead 01-10 -> 01-20 (10 days), qualified 01-20 -> 02-20 (11 + 20 = 31), won: null.
        {
            "history_id": 1,
            "opportunity_id": 1,
            "from_stage": None,
            "to_stage": "lead",
            "changed_at": ts("2025-01-10 09:00"),
        },
        {
            "history_id": 2,
            "opportunity_id": 1,
            "from_stage": "lead",
            "to_stage": "qualified",
            "changed_at": ts("2025-01-20 12:00"),
        },
        {
            "history_id": 3,
            "opportunity_id": 1,
            "from_stage": "qualified",
            "to_stage": "Won",
            "changed_at": ts("2025-02-20 15:00"),
        },
        # Opportunity 3 (open): lead 02-01 -> 03-01 (28 days), negotiation 03-01 -> as-of 03-31 (30 days).
        {
            "history_id": 5,
            "opportunity_id": 3,
            "from_stage": "lead",
            "to_stage": "negotiation",
            "changed_at": ts("2025-03-01 10:00"),
        },
        {
            "history_id": 4,
            "opportunity_id": 3,
            "from_stage": None,
            "to_stage": "lead",
            "changed_at": ts("2025-02-01 08:00"),
        },
        # Opportunity 4 (lost): lead 01-02 -> 01-15 (13 days), lost: null.
        {
            "history_id": 6,
            "opportunity_id": 4,
            "from_stage": None,
            "to_stage": "lead",
            "changed_at": ts("2025-01-02 08:00"),
        },
        {
            "history_id": 7,
            "opportunity_id": 4,
            "from_stage": "lead",
            "to_stage": "lost",
            "changed_at": ts("2025-01-15 08:00"),
        },
        {
            "history_id": 8,
            "opportunity_id": 5,
            "from_stage": None,
            "to_stage": "lead",
            "changed_at": ts("2025-03-10 08:00"),
        },
    ],
    "contracts": [
        # 1: EUR signed 2025-02-25 -> 1.20: 1000 x 1.20 = 1200.00.
        {
            "contract_id": 1,
            "contract_no": "C-001",
            "opportunity_id": 1,
            "customer_id": 1,
            "owner_user_id": 10,
            "amount": Decimal("1000.00"),
            "currency": "EUR",
            "signed_date": d("2025-02-25"),
            "start_date": d("2025-03-01"),
            "end_date": d("2026-02-28"),
            "status": "Active",
            "created_at": ts("2025-02-25 10:00"),
        },
        {
            "contract_id": 2,
            "contract_no": "C-002",
            "customer_id": 2,
            "owner_user_id": 11,
            "amount": Decimal("300.00"),
            "currency": "USD",
            "signed_date": d("2025-03-10"),
            "status": "active",
            "created_at": ts("2025-03-10 10:00"),
        },
        # 3: deleted: counts nowhere, not even as customer 1's first contract (which is 2025-02-25, not 01-03).
        {
            "contract_id": 3,
            "contract_no": "C-003",
            "customer_id": 1,
            "owner_user_id": 10,
            "amount": Decimal("999.00"),
            "currency": "USD",
            "signed_date": d("2025-01-03"),
            "status": "active",
            "created_at": ts("2025-01-03 10:00"),
            "is_deleted": True,
        },
    ],
    "payment_plans": [
        # Plans convert at the as-of date's rate, EUR 1.05.
        # 1: due 600 EUR -> 630.00; paid 200 EUR (payment 1) -> 210.00: partly paid.
        {"plan_id": 1, "contract_id": 1, "installment_no": 1, "due_date": d("2025-03-01"), "amount": Decimal("600.00")},
        # 2: due 400 EUR -> 420.00; its only payment (5) is deleted -> paid 0.00.
        {"plan_id": 2, "contract_id": 1, "installment_no": 2, "due_date": d("2025-04-01"), "amount": Decimal("400.00")},
        # 3: of the deleted contract 3: absent.
        {"plan_id": 3, "contract_id": 3, "installment_no": 1, "due_date": d("2025-02-01"), "amount": Decimal("999.00")},
        # 4: USD 300 due, 300 paid: receivable exactly 0.
        {"plan_id": 4, "contract_id": 2, "installment_no": 1, "due_date": d("2025-03-15"), "amount": Decimal("300.00")},
    ],
    "payments": [
        # 1: 200 EUR paid 2025-03-05 -> 2025-02-01's 1.20 (03-15's rate is later): 240.00.
        {
            "payment_id": 1,
            "contract_id": 1,
            "plan_id": 1,
            "amount": Decimal("200.00"),
            "paid_date": d("2025-03-05"),
            "method": "Bank Transfer",
        },
        # 2: no plan; 100 EUR paid 2025-03-20 -> 1.05: 105.00.
        {
            "payment_id": 2,
            "contract_id": 1,
            "plan_id": None,
            "amount": Decimal("100.00"),
            "paid_date": d("2025-03-20"),
            "method": "card",
        },
        {
            "payment_id": 3,
            "contract_id": 2,
            "plan_id": 4,
            "amount": Decimal("300.00"),
            "paid_date": d("2025-03-12"),
            "method": "bank transfer",
        },
        # 4: of the deleted contract 3; 5: deleted itself. Both absent.
        {
            "payment_id": 4,
            "contract_id": 3,
            "plan_id": 3,
            "amount": Decimal("999.00"),
            "paid_date": d("2025-02-02"),
            "method": "card",
        },
        {
            "payment_id": 5,
            "contract_id": 1,
            "plan_id": 2,
            "amount": Decimal("400.00"),
            "paid_date": d("2025-03-25"),
            "method": "card",
            "is_deleted": True,
        },
    ],
    "activities": [
        {
            "activity_id": 1,
            "customer_id": 1,
            "user_id": 10,
            "activity_type": "Call",
            "occurred_at": ts("2025-03-01 10:00"),
        },
        {
            "activity_id": 2,
            "customer_id": 2,
            "user_id": 11,
            "activity_type": "visit",
            "occurred_at": ts("2025-03-02 10:00"),
            "is_deleted": True,
        },
        {
            "activity_id": 3,
            "customer_id": 1,
            "opportunity_id": 2,
            "user_id": 11,
            "activity_type": "email",
            "occurred_at": ts("2025-03-03 23:30"),
        },
    ],
    "sales_targets": [
        {
            "user_id": 10,
            "target_month": d("2025-01-01"),
            "contract_amount_target": Decimal("1000.00"),
            "payment_amount_target": Decimal("500.00"),
            "new_customer_target": 2,
        },
    ],
    "marketing_spend": [
        # 1000 EUR in February -> 2025-02-01's 1.20: 1200.00.
        {"channel": " Web ", "spend_month": d("2025-02-01"), "amount": Decimal("1000.00"), "currency": "EUR"},
    ],
    "fx_rates": [
        {"currency": "EUR", "rate_date": d("2025-01-01"), "rate_to_reporting": Decimal("1.10")},
        {
            "currency": "EUR",
            "rate_date": d("2025-02-01"),
            "rate_to_reporting": Decimal("9.99"),
            "updated_at": ts("2024-12-31 00:00"),
        },
        {
            "currency": "EUR",
            "rate_date": d("2025-02-01"),
            "rate_to_reporting": Decimal("1.20"),
            "updated_at": ts("2025-02-01 00:00"),
        },
        {"currency": "EUR", "rate_date": d("2025-03-15"), "rate_to_reporting": Decimal("1.05")},
        {"currency": "EUR", "rate_date": d("2025-04-10"), "rate_to_reporting": Decimal("2.00")},
        {"currency": "CNY", "rate_date": d("2025-01-01"), "rate_to_reporting": Decimal("0.14")},
        {"currency": "USD", "rate_date": d("2025-01-01"), "rate_to_reporting": Decimal("0.50")},
    ],
}


def query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def by_key(warehouse: Path, table: str, key: str, columns: str) -> dict[Any, tuple]:
    return {row[0]: row[1:] for row in query(warehouse, f"select {key}, {columns} from {table} order by {key}")}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("core") / "warehouse.duckdb"
    write_raw_tables(path, CRM)
    run_dbt(BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE)
    yield path


# --- staging ---------------------------------------------------------------------------------------------------


def test_fx_rates_are_forward_filled_per_day_up_to_the_as_of_date(warehouse: Path) -> None:
    rates = by_key(
        warehouse, "staging.stg_crm__fx_rates where currency = 'EUR'", "date_day", "rate_to_reporting, rate_date"
    )
    assert min(rates) == d("2025-01-01") and max(rates) == d(AS_OF_DATE)  # 2025-04-10 lies after the as-of date
    assert len(rates) == 90  # 31 + 28 + 31 days, one row each
    assert rates[d("2025-01-31")] == (Decimal("1.10"), d("2025-01-01"))
    assert rates[d("2025-02-01")] == (Decimal("1.20"), d("2025-02-01"))  # the later version, not 9.99
    assert rates[d("2025-03-14")] == (Decimal("1.20"), d("2025-02-01"))
    assert rates[d("2025-03-31")] == (Decimal("1.05"), d("2025-03-15"))
    assert query(warehouse, "select count(*) from staging.stg_crm__fx_rates where currency = 'USD'") == [(0,)]


def test_staging_cleans_the_version_the_extract_kept(warehouse: Path) -> None:
    assert query(
        warehouse, "select customer_name, level, source from staging.stg_crm__customers where customer_id = 1"
    ) == [("Acme", "A", "web")]
    assert query(
        warehouse,
        "select stage, status, amount_original, currency from staging.stg_crm__opportunities where opportunity_id = 2",
    ) == [("proposal", "open", Decimal("500.00"), "USD")]


def test_a_key_held_twice_in_raw_stops_the_build_at_staging(tmp_path: Path) -> None:
    """The extract never writes a key twice; if raw ever holds one twice, dbt says which table and key."""
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, CRM)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into raw.customers select * replace ('Acme (copy)' as name) from raw.customers "
            "where customer_id = 1"
        )
    result = run_dbt(
        ["build", "--select", "stg_crm__customers"], warehouse_path=path, as_of_date=AS_OF_DATE, check=False
    )
    assert result.returncode != 0
    assert "Failure in test unique_stg_crm__customers_customer_id" in result.stdout


def test_staging_keeps_soft_deleted_rows_as_a_flag(warehouse: Path) -> None:
    assert query(warehouse, "select customer_id, is_deleted from staging.stg_crm__customers order by 1") == [
        (1, False),
        (2, False),
        (3, True),
    ]


def test_marketing_spend_converts_at_the_spend_month(warehouse: Path) -> None:
    assert query(
        warehouse, "select channel, amount, amount_original, currency from staging.stg_crm__marketing_spend"
    ) == [("web", Decimal("1200.00"), Decimal("1000.00"), "EUR")]


# --- dimensions ------------------------------------------------------------------------------------------------


def test_dim_customers_excludes_deleted_and_finds_the_first_live_contract(warehouse: Path) -> None:
    customers = by_key(
        warehouse,
        "marts.dim_customers",
        "customer_id",
        "customer_name, is_public_pool, created_date, first_contract_date",
    )
    assert customers == {
        1: ("Acme", False, d("2025-01-05"), d("2025-02-25")),  # deleted contract 3 (2025-01-03) does not count
        2: ("Beta", True, d("2025-01-20"), d("2025-03-10")),  # no owner: in the public pool
    }


def test_dim_users_carry_their_department_name(warehouse: Path) -> None:
    assert query(warehouse, "select user_id, user_name, email, department_name from marts.dim_users order by 1") == [
        (10, "Alice", "alice@example.com", "East Sales"),
        (11, "Bob", "bob@example.com", "East Sales"),
    ]


def test_dim_stages_is_the_seeded_catalogue(warehouse: Path) -> None:
    stages = by_key(warehouse, "marts.dim_stages", "stage", "stage_order, win_probability, is_closed, is_won, is_lost")
    assert stages["negotiation"] == (5, Decimal("0.80"), False, False, False)
    assert stages["won"] == (6, Decimal("1.00"), True, True, False)
    assert stages["lost"] == (None, Decimal("0.00"), True, False, True)
    assert len(stages) == 7


def test_dim_date_runs_from_the_first_month_with_data_to_the_as_of_month_end(warehouse: Path) -> None:
    # Earliest date in the data: opportunity 4 created 2025-01-02 (and the January target) -> from 2025-01-01.
    assert query(warehouse, "select min(date_day), max(date_day), count(*) from marts.dim_date") == [
        (d("2025-01-01"), d("2025-03-31"), 90)
    ]
    # 2025-03-31 is a Monday (ISO 1); 2025-03-30 a Sunday (ISO 7).
    assert query(
        warehouse,
        "select month_start, month_end, quarter, year, day_of_week from marts.dim_date "
        "where date_day in ('2025-03-30', '2025-03-31') order by date_day",
    ) == [
        (d("2025-03-01"), d("2025-03-31"), 1, 2025, 7),
        (d("2025-03-01"), d("2025-03-31"), 1, 2025, 1),
    ]


# --- opportunities ---------------------------------------------------------------------------------------------


def test_opportunity_amounts_use_the_latest_rate_on_or_before_the_event_date(warehouse: Path) -> None:
    amounts = by_key(warehouse, "marts.fct_opportunities", "opportunity_id", "amount, amount_original, currency")
    assert amounts == {
        1: (Decimal("1200.00"), Decimal("1000.00"), "EUR"),  # won 2025-02-20: 1000 x 1.20
        2: (Decimal("500.00"), Decimal("500.00"), "USD"),  # reporting currency: rate 1, not the table's 0.50
        3: (Decimal("210.00"), Decimal("200.00"), "EUR"),  # open: as-of rate 1.05, not 2025-04-10's 2.00
        4: (Decimal("1400.00"), Decimal("10000.00"), "CNY"),  # lost 2025-01-15: 10000 x 0.14
        6: (None, Decimal("70.00"), "GBP"),  # no GBP rate: null, never 70
    }  # 5 is deleted


def test_opportunity_status_dates_and_days_to_close(warehouse: Path) -> None:
    rows = by_key(
        warehouse,
        "marts.fct_opportunities",
        "opportunity_id",
        "status, is_won, is_lost, is_closed, created_date, closed_date, days_to_close, stage_order, "
        "win_probability, customer_region",
    )
    assert rows[1] == ("won", True, False, True, d("2025-01-10"), d("2025-02-20"), 41, 6, Decimal("1.00"), "East")
    assert rows[2] == ("open", False, False, False, d("2025-03-01"), None, None, 4, Decimal("0.60"), "East")
    assert rows[4] == ("lost", False, True, True, d("2025-01-02"), d("2025-01-15"), 13, None, Decimal("0.00"), "West")


def test_opportunity_lines_convert_like_their_opportunity(warehouse: Path) -> None:
    lines = {
        (r[0], r[1]): r[2:]
        for r in query(
            warehouse,
            "select opportunity_id, product_id, category, line_amount, line_amount_original, status, "
            "closed_date from marts.fct_opportunity_lines",
        )
    }
    assert lines == {
        (1, 500): ("Hardware", Decimal("648.00"), Decimal("540.00"), "won", d("2025-02-20")),
        (1, 501): ("Services", Decimal("552.00"), Decimal("460.00"), "won", d("2025-02-20")),
        (3, 500): ("Hardware", Decimal("183.75"), Decimal("175.00"), "open", None),
    }  # the line of deleted opportunity 5 is absent


def test_stage_spells_and_days_in_stage(warehouse: Path) -> None:
    spells = query(
        warehouse,
        "select opportunity_id, spell_number, stage, stage_order, days_in_stage, is_current_spell, "
        "exited_at from marts.fct_opportunity_stage_history order by 1, 2",
    )
    assert spells == [
        (1, 1, "lead", 1, 10, False, ts("2025-01-20 12:00")),
        (1, 2, "qualified", 3, 31, False, ts("2025-02-20 15:00")),
        (1, 3, "won", 6, None, True, None),  # closed in a closed stage: no end, no duration
        (2, 1, "proposal", 4, 26, True, None),  # no recorded change: its stage from the snapshot history
        (3, 1, "lead", 1, 28, False, ts("2025-03-01 10:00")),  # ordered by changed_at, not history_id
        (3, 2, "negotiation", 5, 30, True, None),  # still open: 2025-03-01 -> as-of 2025-03-31
        (4, 1, "lead", 1, 13, False, ts("2025-01-15 08:00")),
        (4, 2, "lost", None, None, True, None),
        (6, 1, "lead", 1, 89, True, None),  # no recorded change either: still open at the as-of date
    ]  # deleted opportunity 5 has no spells


# --- contracts and collections ---------------------------------------------------------------------------------


def test_contracts_convert_at_signed_date_and_exclude_deleted(warehouse: Path) -> None:
    assert by_key(warehouse, "marts.fct_contracts", "contract_id", "amount, currency, status") == {
        1: (Decimal("1200.00"), "EUR", "active"),
        2: (Decimal("300.00"), "USD", "active"),
    }


def test_payment_plans_convert_due_and_paid_at_the_as_of_date(warehouse: Path) -> None:
    plans = by_key(
        warehouse, "marts.fct_payment_plans", "plan_id", "customer_id, owner_user_id, due_amount, paid_amount, currency"
    )
    assert plans == {
        1: (1, 10, Decimal("630.00"), Decimal("210.00"), "EUR"),  # 600 and 200 EUR x 1.05: partly paid
        2: (1, 10, Decimal("420.00"), Decimal("0.00"), "EUR"),  # its only payment is deleted
        4: (2, 11, Decimal("300.00"), Decimal("300.00"), "USD"),  # fully paid: receivable exactly 0
    }  # plan 3 belongs to deleted contract 3


def test_payments_convert_at_paid_date_and_credit_the_contract_owner(warehouse: Path) -> None:
    assert by_key(
        warehouse,
        "marts.fct_payments",
        "payment_id",
        "plan_id, customer_id, owner_user_id, amount, amount_original, method",
    ) == {
        1: (1, 1, 10, Decimal("240.00"), Decimal("200.00"), "bank transfer"),  # 2025-03-05: 1.20
        2: (None, 1, 10, Decimal("105.00"), Decimal("100.00"), "card"),  # no plan; 2025-03-20: 1.05
        3: (4, 2, 11, Decimal("300.00"), Decimal("300.00"), "bank transfer"),
    }  # 4 (deleted contract) and 5 (deleted) are absent


def test_activities_exclude_deleted(warehouse: Path) -> None:
    assert by_key(warehouse, "marts.fct_activities", "activity_id", "activity_type, occurred_date") == {
        1: ("call", d("2025-03-01")),
        3: ("email", d("2025-03-03")),
    }


# --- incremental facts -----------------------------------------------------------------------------------------


def test_incremental_facts_take_new_rows_and_drop_rows_deleted_in_a_later_load(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, CRM)
    run_dbt(BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE)
    with duckdb.connect(str(path)) as con:
        # A row the second load does not touch must not be rebuilt: mark it to tell.
        con.execute("update marts.fct_activities set activity_type = 'untouched' where activity_id = 1")
        # The second load, as the extract writes it: merged in place on the primary key, newer _loaded_at.
        con.execute(
            "update raw.activities set is_deleted = true, updated_at = ?, _load_id = 'second', _loaded_at = ? "
            "where activity_id = 3",
            [SECOND_LOAD_AT, SECOND_LOAD_AT],
        )
        con.execute(
            "insert into raw.activities (activity_id, customer_id, user_id, activity_type, occurred_at, "
            "updated_at, _load_id, _loaded_at) values (4, 2, 10, 'demo', '2025-03-30 09:00', ?, 'second', ?)",
            [SECOND_LOAD_AT, SECOND_LOAD_AT],
        )
        # Payment 2 deleted: its second version replaces the first, as the merge on the key does.
        con.execute(
            "update raw.payments set is_deleted = true, updated_at = ?, _load_id = 'second', _loaded_at = ? "
            "where payment_id = 2",
            [SECOND_LOAD_AT, SECOND_LOAD_AT],
        )
        # Contract 2 deleted: its payment 3 goes too. Contract 1 changes owner: its payment 1 follows.
        con.execute(
            "update raw.contracts set is_deleted = true, updated_at = ?, _loaded_at = ? where contract_id = 2",
            [SECOND_LOAD_AT, SECOND_LOAD_AT],
        )
        con.execute(
            "update raw.contracts set owner_user_id = 11, updated_at = ?, _loaded_at = ? where contract_id = 1",
            [SECOND_LOAD_AT, SECOND_LOAD_AT],
        )

    run_dbt(BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE)

    assert by_key(path, "marts.fct_activities", "activity_id", "activity_type") == {
        1: ("untouched",),  # not reloaded, so not rebuilt: the second build was incremental
        4: ("demo",),  # new
    }  # 3 deleted in the second load
    assert by_key(path, "marts.fct_payments", "payment_id", "owner_user_id, amount") == {
        1: (11, Decimal("240.00")),  # its contract changed owner in the second load
    }  # 2 deleted, 3's contract deleted


def test_incremental_facts_drop_what_a_source_full_refresh_no_longer_has_and_deleted_opportunities_spells(
    tmp_path: Path,
) -> None:
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, CRM)
    run_dbt(BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE)
    with duckdb.connect(str(path)) as con:
        # A full refresh of activities, as the extract writes it: activity 1 vanished from the source (a hard
        # delete), every other row loaded again.
        con.execute("delete from raw.activities where activity_id = 1")
        con.execute("update raw.activities set _load_id = 'second', _loaded_at = ?", [SECOND_LOAD_AT])
        # Opportunity 3 soft-deleted in a delta: its spells go, the other live opportunities' stay.
        con.execute(
            "update raw.opportunities set is_deleted = true, updated_at = ?, _load_id = 'second', "
            "_loaded_at = ? where opportunity_id = 3",
            [SECOND_LOAD_AT, SECOND_LOAD_AT],
        )

    run_dbt(BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE)

    assert by_key(path, "marts.fct_activities", "activity_id", "activity_type") == {3: ("email",)}
    assert query(path, "select distinct opportunity_id from marts.fct_opportunity_stage_history order by 1") == [
        (1,),
        (2,),
        (4,),
        (6,),
    ]


def test_a_full_refresh_gives_the_same_incremental_facts(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, CRM)
    run_dbt(BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE)
    incremental = query(path, "select * from marts.fct_payments order by payment_id")
    run_dbt([*BUILD_CORE, "--full-refresh"], warehouse_path=path, as_of_date=AS_OF_DATE)
    assert query(path, "select * from marts.fct_payments order by payment_id") == incremental


# --- reporting time zone and the empty CRM ---------------------------------------------------------------------


def test_dates_follow_the_reporting_time_zone(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, CRM)
    run_dbt(
        BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE, extra_env={"CRM_REPORTING_TIMEZONE": "Asia/Shanghai"}
    )
    # Activity 3 at 2025-03-03 23:30 UTC is 2025-03-04 07:30 in Shanghai (UTC+8).
    assert query(path, "select occurred_date from marts.fct_activities where activity_id = 3") == [(d("2025-03-04"),)]
    # Opportunity 1 closed 2025-02-20 15:00 UTC = 23:00 in Shanghai: the same day, still 41 days.
    assert query(path, "select closed_date, days_to_close from marts.fct_opportunities where opportunity_id = 1") == [
        (d("2025-02-20"), 41)
    ]


def test_an_empty_crm_builds_everything(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    write_raw_tables(path, {})
    run_dbt(BUILD_CORE, warehouse_path=path, as_of_date=AS_OF_DATE)
    assert query(path, "select count(*) from marts.fct_opportunities") == [(0,)]
    # With no data the calendar is the as-of month.
    assert query(path, "select min(date_day), max(date_day) from marts.dim_date") == [
        (d("2025-03-01"), d("2025-03-31"))
    ]
