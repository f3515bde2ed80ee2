"""Salesforce, as a sync tool lands it, mapped to the contract (docs/sources.md): a small hand-written Salesforce org,
`dbt build` in salesforce mode, and the published figures a sales manager would check, each worked out by hand below.

The org (times UTC; corporate currency USD; reporting currency EUR, so every amount goes through a cross rate):
  rates        EUR dated: 0.8 from 2025-01-01, 0.9 from 2025-02-01 (units per USD); GBP static 0.75 (currency_type)
               → to EUR: USD 0.8 in January, 0.9 from February; GBP 0.8 / 0.75 = 1.06666667, then 0.9 / 0.75 = 1.2
  roles        VP (top), AE East (under VP);  users Alice (VP), Bob (AE East, manager Alice, division East)
  accounts     Acme (Alice, Boston MA US, Hot, Web), Globex (Bob, Phone Inquiry), Initech (deleted by the sync)
  stages       Prospecting 10%, Qualification 20%, Proposal 60%, Closed Won, Closed Lost; Old Stage (inactive)
  opportunities (amount; created; history; how it ended)
    OPP1 Alice 10000 USD  Jan 10  Prospecting, amount-only edit Jan 12, Proposal Jan 20, Closed Won Feb 15
    OPP2 Bob    5000 GBP  Jan 11  Prospecting, Closed Lost Jan 20 (loss_reason_c 'Price')
    OPP3 Alice  8000 (no currency: USD)  Mar 1  Qualification, open, closes Apr 30
    OPP4 Bob    7000 USD  Jan 5   Closed Won Jan 25, but in the recycle bin (is_deleted): counts nowhere
  lines        OPP1: Software 2 and 1 at 3000 less 10% (one line of 3), Services 1.5 at 1000 (one unit of 1500)
  activities   a call on OPP1 (Jan 15), an e-mail on Globex (Jan 18), a meeting on OPP3 (Mar 5 14:00),
               a deleted task
  quotas       Alice Jan 20000 USD, Alice from Mar 15 30000 (no currency: USD), Bob Feb 10000 GBP
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

import crm_contract
import crm_salesforce
from orchestration.raw_schema import LOAD_ID_COLUMN, LOADED_AT_COLUMN, RAW_SCHEMA, duckdb_type, raw_table_ddl
from tests.support.dbt import run_dbt
from tests.support.servers import Server
from tests.support.warehouses import (
    compared_columns,
    create_reader_role,
    differences,
    duckdb_rows,
    postgres_env,
    sqlalchemy_rows,
)

AS_OF_DATE = "2025-03-31"
LOADED_AT = datetime(2025, 3, 31, 23, 0)
SYNCED_AT = datetime(2025, 3, 31, 22, 0)
SALESFORCE_ENV = {
    "CRM_SOURCE_SYSTEM": "salesforce",
    "CRM_SOURCE_CURRENCY": "USD",
    "CRM_REPORTING_CURRENCY": "EUR",
    "CRM_SALESFORCE_LOSS_REASON_FIELD": "loss_reason_c",
}


def sf_id(prefix: str, name: str) -> str:
    """An 18-character Salesforce-like id: the object's 3-character key prefix, then a readable tail."""
    return (prefix + "5g0000" + name.upper()).ljust(15, "0")[:15] + "AAA"


def key(source_id: str) -> int:
    """The contract key the mapping derives (macro source_id_key): the first 15 hex digits of md5(id)."""
    return int(hashlib.md5(source_id.encode()).hexdigest()[:15], 16)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def d(text: str) -> date:
    return date.fromisoformat(text)


VP, AE = sf_id("00E", "vp"), sf_id("00E", "ae")
ALICE, BOB = sf_id("005", "alice"), sf_id("005", "bob")
ACME, GLOBEX, INITECH = sf_id("001", "acme"), sf_id("001", "globex"), sf_id("001", "initech")
SOFTWARE, SERVICES = sf_id("01t", "software"), sf_id("01t", "services")
OPP1, OPP2, OPP3, OPP4 = (sf_id("006", f"opp{n}") for n in range(1, 5))
CALL, EMAIL, DELETED_TASK, MEETING = (
    sf_id("00T", "call"),
    sf_id("00T", "email"),
    sf_id("00T", "gone"),
    sf_id("00U", "meet"),
)


def _opportunity(opp: str, account: str, owner: str, stage: str, amount: str, currency: str | None, **rest: Any):
    closed, won = stage.startswith("Closed"), stage == "Closed Won"
    return {
        "id": opp,
        "name": f"Deal {opp[-6:-3]}",
        "account_id": account,
        "owner_id": owner,
        "lead_source": "Web" if account == ACME else "Phone Inquiry",
        "stage_name": stage,
        "amount": Decimal(amount),
        "currency_iso_code": currency,
        "is_closed": closed,
        "is_won": won,
        "is_deleted": False,
        **rest,
    }


def _history(row_id: str, opp: str, stage: str, amount: str, at: str) -> dict[str, Any]:
    return {
        "id": sf_id("008", row_id),
        "opportunity_id": opp,
        "stage_name": stage,
        "amount": Decimal(amount),
        "created_date": ts(at),
        "is_deleted": False,
    }


def _stage(name: str, order: int, probability: int, *, closed: bool = False, won: bool = False, active: bool = True):
    return {
        "id": sf_id("01J", name.replace(" ", "")),
        "api_name": name,
        "master_label": name,
        "sort_order": order,
        "default_probability": Decimal(probability),
        "is_active": active,
        "is_closed": closed,
        "is_won": won,
    }


SALESFORCE: dict[str, list[dict[str, Any]]] = {
    "user_role": [
        {"id": VP, "name": "VP", "parent_role_id": None},
        # synced by a tool without _fivetran_synced: dated by Salesforce's system_modstamp
        {
            "id": AE,
            "name": "AE East",
            "parent_role_id": VP,
            "_fivetran_synced": None,
            "system_modstamp": SYNCED_AT.replace(hour=8),
        },
    ],
    "user": [
        {"id": ALICE, "name": "Alice", "user_role_id": VP, "is_active": True, "created_date": ts("2024-06-01 09:00")},
        {
            "id": BOB,
            "name": "Bob",
            "user_role_id": AE,
            "manager_id": ALICE,
            "division": "East",
            "is_active": True,
            "created_date": ts("2024-07-01 09:00"),
        },
    ],
    "account": [
        {
            "id": ACME,
            "name": "Acme",
            "industry": "Manufacturing",
            "billing_city": "Boston",
            "billing_state": "MA",
            "billing_country": "US",
            "rating": "Hot",
            "account_source": "Web",
            "owner_id": ALICE,
            "is_deleted": False,
            "created_date": ts("2025-01-05 09:00"),
        },
        {
            "id": GLOBEX,
            "name": "Globex",
            "account_source": "Phone Inquiry",
            "owner_id": BOB,
            "is_deleted": False,
            "created_date": ts("2025-01-06 09:00"),
        },
        {
            "id": INITECH,
            "name": "Initech",
            "owner_id": BOB,
            "is_deleted": False,
            "_fivetran_deleted": True,
            "created_date": ts("2025-01-07 09:00"),
        },
    ],
    "contact": [
        {"id": sf_id("003", "pat"), "name": "Pat", "title": "CFO", "account_id": GLOBEX, "is_deleted": False},
    ],
    "product_2": [
        {"id": SOFTWARE, "name": "Suite", "family": "Software", "is_active": True, "is_deleted": False},
        {"id": SERVICES, "name": "Setup", "family": "Services", "is_active": True, "is_deleted": False},
    ],
    "opportunity_stage": [
        _stage("Prospecting", 1, 10),
        _stage("Qualification", 2, 20),
        _stage("Proposal", 3, 60),
        _stage("Closed Won", 4, 100, closed=True, won=True),
        _stage("Closed Lost", 5, 0, closed=True),
        _stage("Old Stage", 6, 50, active=False),
    ],
    "opportunity": [
        _opportunity(
            OPP1,
            ACME,
            ALICE,
            "Closed Won",
            "10000",
            "USD",
            close_date=d("2025-02-15"),
            created_date=ts("2025-01-10 10:00"),
        ),
        _opportunity(
            OPP2,
            GLOBEX,
            BOB,
            "Closed Lost",
            "5000",
            "GBP",
            close_date=d("2025-01-20"),
            created_date=ts("2025-01-11 10:00"),
            loss_reason_c="Price",
        ),
        _opportunity(
            OPP3,
            ACME,
            ALICE,
            "Qualification",
            "8000",
            None,
            close_date=d("2025-04-30"),
            created_date=ts("2025-03-01 10:00"),
        ),
        _opportunity(
            OPP4,
            GLOBEX,
            BOB,
            "Closed Won",
            "7000",
            "USD",
            close_date=d("2025-01-25"),
            created_date=ts("2025-01-05 10:00"),
            is_deleted=True,
        ),
    ],
    "opportunity_history": [
        _history("h11", OPP1, "Prospecting", "10000", "2025-01-10 10:00"),
        _history("h12", OPP1, "Prospecting", "12000", "2025-01-12 10:00"),  # amount only: not a stage change
        _history("h13", OPP1, "Proposal", "10000", "2025-01-20 10:00"),
        _history("h14", OPP1, "Closed Won", "10000", "2025-02-15 16:00"),
        _history("h21", OPP2, "Prospecting", "5000", "2025-01-11 10:00"),
        _history("h22", OPP2, "Closed Lost", "5000", "2025-01-20 09:00"),
        _history("h31", OPP3, "Qualification", "8000", "2025-03-01 10:00"),
        _history("h41", OPP4, "Closed Won", "7000", "2025-01-05 10:00"),
    ],
    "opportunity_line_item": [
        {
            "id": sf_id("00k", "l1"),
            "opportunity_id": OPP1,
            "product_2_id": SOFTWARE,
            "quantity": Decimal(2),
            "unit_price": Decimal("3000"),
            "discount": Decimal(10),
            "is_deleted": False,
        },
        {
            "id": sf_id("00k", "l2"),
            "opportunity_id": OPP1,
            "product_2_id": SOFTWARE,
            "quantity": Decimal(1),
            "unit_price": Decimal("3000"),
            "discount": Decimal(10),
            "is_deleted": False,
        },
        {
            "id": sf_id("00k", "l3"),
            "opportunity_id": OPP1,
            "product_2_id": SERVICES,
            "quantity": Decimal("1.5"),
            "unit_price": Decimal("1000"),
            "discount": None,
            "is_deleted": False,
        },
    ],
    "task": [
        {
            "id": CALL,
            "account_id": ACME,
            "what_id": OPP1,
            "owner_id": ALICE,
            "task_subtype": "Call",
            "activity_date": d("2025-01-15"),
            "is_deleted": False,
        },
        {
            "id": EMAIL,
            "account_id": GLOBEX,
            "what_id": GLOBEX,
            "owner_id": BOB,
            "task_subtype": "Email",
            "activity_date": d("2025-01-18"),
            "is_deleted": False,
        },
        {
            "id": DELETED_TASK,
            "account_id": GLOBEX,
            "what_id": GLOBEX,
            "owner_id": BOB,
            "task_subtype": "Call",
            "activity_date": d("2025-01-19"),
            "is_deleted": True,
        },
    ],
    "event": [
        {
            "id": MEETING,
            "account_id": ACME,
            "what_id": OPP3,
            "owner_id": ALICE,
            "event_subtype": "Event",
            "activity_date": d("2025-03-05"),
            "activity_date_time": ts("2025-03-05 14:00"),
            "is_deleted": False,
        },
    ],
    "dated_conversion_rate": [
        {
            "id": sf_id("04w", "eur0"),
            "iso_code": "EUR",
            "conversion_rate": Decimal("0.8"),
            "start_date": d("0001-01-01"),
            "next_start_date": d("2025-02-01"),
        },
        {
            "id": sf_id("04w", "eur1"),
            "iso_code": "EUR",
            "conversion_rate": Decimal("0.9"),
            "start_date": d("2025-02-01"),
            "next_start_date": d("9999-12-31"),
        },
    ],
    "currency_type": [
        {
            "id": sf_id("02c", "usd"),
            "iso_code": "USD",
            "conversion_rate": Decimal(1),
            "is_corporate": True,
            "is_active": True,
        },
        {
            "id": sf_id("02c", "eur"),
            "iso_code": "EUR",
            "conversion_rate": Decimal("0.85"),
            "is_corporate": False,
            "is_active": True,
        },
        {
            "id": sf_id("02c", "gbp"),
            "iso_code": "GBP",
            "conversion_rate": Decimal("0.75"),
            "is_corporate": False,
            "is_active": True,
        },
    ],
    "forecasting_quota": [
        {
            "id": sf_id("0J9", "q1"),
            "quota_owner_id": ALICE,
            "start_date": d("2025-01-01"),
            "quota_amount": Decimal("20000"),
            "currency_iso_code": "USD",
        },
        {
            "id": sf_id("0J9", "q2"),
            "quota_owner_id": ALICE,
            "start_date": d("2025-03-15"),
            "quota_amount": Decimal("30000"),
            "currency_iso_code": None,
        },
        {
            "id": sf_id("0J9", "q3"),
            "quota_owner_id": BOB,
            "start_date": d("2025-02-01"),
            "quota_amount": Decimal("10000"),
            "currency_iso_code": "GBP",
        },
    ],
}


def raw_statements(
    rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]], placeholder: str
) -> Iterator[tuple[str, list[Any]]]:
    """What the extract leaves in raw in salesforce mode, as SQL both DuckDB and Postgres run: every synced table with
    the given rows (plus the custom loss-reason column a Salesforce admin adds), and the contract's file-drop tables
    empty."""
    yield f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}", []
    for table in crm_salesforce.SOURCE_TABLES:
        yield raw_table_ddl(table), []
        if table.name == "opportunity":
            yield f"ALTER TABLE {RAW_SCHEMA}.opportunity ADD COLUMN loss_reason_c VARCHAR", []
        for row in rows_by_table.get(table.name, ()):
            full = {"_fivetran_synced": SYNCED_AT, "_fivetran_deleted": False, **row}
            names = [*full, LOAD_ID_COLUMN, LOADED_AT_COLUMN]
            columns = ", ".join(f'"{name}"' for name in names)
            placeholders = ", ".join(placeholder for _ in names)
            insert = f'INSERT INTO {RAW_SCHEMA}."{table.name}" ({columns}) VALUES ({placeholders})'
            yield insert, [*full.values(), "fixture", LOADED_AT]
    for name in ("fx_rates", "marketing_spend"):
        yield raw_table_ddl(crm_contract.source_table(name)), []


def write_salesforce_raw_tables(warehouse: Path, rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement, params in raw_statements(rows_by_table, "?"):
            con.execute(statement, params)


def query(warehouse: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("salesforce") / "warehouse.duckdb"
    write_salesforce_raw_tables(path, SALESFORCE)
    run_dbt(["build"], warehouse_path=path, as_of_date=AS_OF_DATE, extra_env=SALESFORCE_ENV)
    return path


CONTRACT_SHAPED = [table for table in crm_contract.SOURCE_TABLES if table.name != "marketing_spend"]


@pytest.mark.parametrize("table", CONTRACT_SHAPED, ids=lambda table: table.name)
def test_each_contract_table_is_built_with_exactly_its_columns_and_types(
    warehouse: Path, table: crm_contract.SourceTable
) -> None:
    """The shared staging reads stg_salesforce__<table> in place of raw.<table>: the same columns, order and types."""
    built = query(
        warehouse,
        "select column_name, data_type from information_schema.columns"
        f" where table_schema = 'staging' and table_name = 'stg_salesforce__{table.name}' order by ordinal_position",
    )
    expected = [(column.name, duckdb_type(column)) for column in table.columns]
    assert built == [*expected, (LOAD_ID_COLUMN, "VARCHAR"), (LOADED_AT_COLUMN, "TIMESTAMP")]


def test_a_row_synced_without_fivetran_synced_is_dated_by_its_system_modstamp(warehouse: Path) -> None:
    assert query(warehouse, "select name, updated_at from staging.stg_salesforce__departments order by name") == [
        ("AE East", SYNCED_AT.replace(hour=8)),
        ("VP", SYNCED_AT),
    ]


def test_the_stage_catalogue_is_the_active_picklist_with_lost_outside_the_funnel(warehouse: Path) -> None:
    assert query(
        warehouse,
        "select stage, stage_order, win_probability, is_closed, is_won from marts.dim_stages"
        " order by stage_order nulls last",
    ) == [
        ("prospecting", 1, Decimal("0.1000"), False, False),
        ("qualification", 2, Decimal("0.2000"), False, False),
        ("proposal", 3, Decimal("0.6000"), False, False),
        ("closed won", 4, Decimal("1.0000"), True, True),
        ("closed lost", None, Decimal("0.0000"), True, False),
    ]


def test_opportunities_close_on_their_close_date_in_the_reporting_currency(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select opportunity_source_id, stage, status, amount, currency, closed_at, days_to_close, loss_reason, source"
        " from marts.fct_opportunities order by opportunity_source_id",
    )
    assert rows == [
        # won Feb 15: 10000 USD × 0.9 (EUR per USD from Feb 1) = 9000.00; closed at 00:00 UTC of the close date
        (OPP1, "closed won", "won", Decimal("9000.00"), "USD", ts("2025-02-15 00:00"), 36, None, "web"),
        # lost Jan 20: 5000 GBP × 0.8 / 0.75 = 5333.33; the loss reason from the column the setting names
        (OPP2, "closed lost", "lost", Decimal("5333.33"), "GBP", ts("2025-01-20 00:00"), 9, "Price", "phone inquiry"),
        # open: no currency → the corporate USD, at the as-of date's 0.9
        (OPP3, "qualification", "open", Decimal("7200.00"), "USD", None, None, None, "web"),
    ]  # OPP4 is in the recycle bin: nowhere


def test_amount_only_history_rows_are_not_stage_changes(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select history.stage, history.entered_at, history.days_in_stage"
        " from marts.fct_opportunity_stage_history as history"
        " where history.opportunity_id = ? order by history.spell_number",
        [key(OPP1)],
    )
    # Prospecting from creation until Jan 20 (the Jan 12 amount edit is not a new spell), Proposal until the win.
    assert rows[:2] == [
        ("prospecting", ts("2025-01-10 10:00"), 10),
        ("proposal", ts("2025-01-20 10:00"), 26),
    ]
    assert query(warehouse, "select count(*) from staging.stg_salesforce__opportunity_stage_history") == [(7,)]


def test_the_funnel_counts_stages_reached(warehouse: Path) -> None:
    rows = query(warehouse, "select stage, opportunities_reached from marts.mart_sales_funnel order by stage_order")
    # OPP1 won (every stage), OPP2 lost from prospecting, OPP3 at qualification.
    assert rows == [("prospecting", 3), ("qualification", 2), ("proposal", 1), ("closed won", 1)]


def test_a_won_opportunity_is_the_contract(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select contract_id, opportunity_id, customer_id, amount, signed_date, status from marts.fct_contracts",
    )
    assert rows == [(key(OPP1), key(OPP1), key(ACME), Decimal("9000.00"), d("2025-02-15"), "active")]


def test_lines_of_one_product_merge_and_fractional_quantities_keep_the_amount(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select product_id, quantity, unit_price, discount_pct from staging.stg_salesforce__opportunity_products"
        " order by quantity desc",
    )
    # Software: 2 + 1 at 3000 less 10% → 3 at 3000, 10%; Services: 1.5 × 1000 → one unit at 1500
    assert rows == [
        (key(SOFTWARE), 3, Decimal("3000.00"), Decimal("10.0000")),
        (key(SERVICES), 1, Decimal("1500.00"), Decimal("0.0000")),
    ]


def test_tasks_and_events_name_the_opportunity_only_when_they_are_on_one(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select activity_id, customer_id, opportunity_id, user_id, activity_type, occurred_at"
        " from marts.fct_activities order by occurred_at",
    )
    assert rows == [
        (key(CALL), key(ACME), key(OPP1), key(ALICE), "call", ts("2025-01-15 00:00")),
        (key(EMAIL), key(GLOBEX), None, key(BOB), "email", ts("2025-01-18 00:00")),
        (key(MEETING), key(ACME), key(OPP3), key(ALICE), "event", ts("2025-03-05 14:00")),
    ]


def test_quotas_become_monthly_targets_in_the_reporting_currency(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select user_id, target_month, contract_amount_target from staging.stg_crm__sales_targets"
        " order by target_month",
    )
    # Alice Jan 20000 USD × 0.8; Bob Feb 10000 GBP × 0.9 / 0.75; Alice's quota from Mar 15 is March's, 30000 × 0.9
    assert rows == [
        (key(ALICE), d("2025-01-01"), Decimal("16000.00")),
        (key(BOB), d("2025-02-01"), Decimal("12000.00")),
        (key(ALICE), d("2025-03-01"), Decimal("27000.00")),
    ]


def test_published_dimensions_keep_the_salesforce_ids(warehouse: Path) -> None:
    assert query(
        warehouse,
        "select customer_source_id, city, province, region, level, is_public_pool"
        " from marts.dim_customers order by customer_source_id",
    ) == [
        (ACME, "Boston", "MA", "US", "HOT", False),  # levels are upper-cased by the shared staging
        (GLOBEX, None, None, None, None, False),
    ]  # Initech was deleted by the sync
    assert query(
        warehouse,
        "select user_source_id, department_name, region, manager_user_id from marts.dim_users order by user_name",
    ) == [
        (ALICE, "VP", None, None),
        (BOB, "AE East", "East", key(ALICE)),
    ]
    assert query(warehouse, "select product_source_id, category from marts.dim_products order by category") == [
        (SERVICES, "Services"),
        (SOFTWARE, "Software"),
    ]
    assert query(warehouse, "select customer_id from marts.dim_customers where customer_source_id = ?", [ACME]) == [
        (key(ACME),)
    ]


def test_what_salesforce_does_not_hold_stays_empty(warehouse: Path) -> None:
    for model in ("fct_payments", "mart_receivables_aging", "mart_satisfaction_monthly"):
        assert query(warehouse, f"select count(*) from marts.{model}") == [(0,)], model


def test_two_ids_with_one_key_stop_the_build_naming_both(warehouse: Path, tmp_path: Path) -> None:
    """A real md5 collision on 60 bits cannot be written by hand: a forged row gives a second account the key of Acme,
    and the check the model runs after each build (check_source_id_collisions) must name the object and both ids."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    forged = sf_id("001", "forged")
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "insert into staging.stg_salesforce__source_ids values ('customer', 'account', ?, ?)", [forged, key(ACME)]
        )
    result = run_dbt(
        ["run-operation", "check_source_id_collisions", "--args", "{relation: staging.stg_salesforce__source_ids}"],
        warehouse_path=copy,
        as_of_date=AS_OF_DATE,
        extra_env=SALESFORCE_ENV,
        check=False,
    )
    assert result.returncode != 0
    assert f"account ids {ACME} and {forged} (customer key {key(ACME)})" in result.stdout


# The published models this org fills (payments, receivables and satisfaction stay empty for Salesforce).
FILLED_MODELS = (
    "dim_customers",
    "dim_users",
    "dim_products",
    "dim_stages",
    "fct_opportunities",
    "fct_opportunity_stage_history",
    "fct_opportunity_lines",
    "fct_contracts",
    "fct_activities",
    "mart_sales_funnel",
    "mart_rep_performance_monthly",
    "mart_opportunity_kpis_monthly",
)


def test_postgres_derives_the_same_keys_and_marts_from_the_same_salesforce_tables(
    warehouse: Path, postgres: Server
) -> None:
    """The keys come from md5 on each engine (source_id_key is dispatched): Postgres must publish the same rows."""
    database = postgres.create_database()
    create_reader_role(postgres, database)
    engine = sa.create_engine(postgres.url(database))
    try:
        with engine.begin() as con:
            for statement, params in raw_statements(SALESFORCE, "%s"):
                con.exec_driver_sql(statement, tuple(params))
    finally:
        engine.dispose()
    run_dbt(
        ["build", "--exclude-resource-type", "unit_test"],
        warehouse_path=warehouse.parent / "postgres" / "unused.duckdb",
        as_of_date=AS_OF_DATE,
        extra_env={**SALESFORCE_ENV, **postgres_env(postgres, database)},
    )
    for model in FILLED_MODELS:
        columns = compared_columns(warehouse, model)
        expected = duckdb_rows(warehouse, model, columns)
        assert expected, f"marts.{model} is empty: the comparison would prove nothing"
        diff = differences(expected, sqlalchemy_rows(postgres.url(database), model, columns))
        assert not diff, f"marts.{model}: DuckDB and Postgres differ, e.g. {diff[0][0]} vs {diff[0][1]}"


def test_a_loss_reason_setting_that_is_not_a_column_name_stops_the_build(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    result = run_dbt(
        ["compile", "--select", "stg_salesforce__opportunities"],
        warehouse_path=copy,
        as_of_date=AS_OF_DATE,
        extra_env={**SALESFORCE_ENV, "CRM_SALESFORCE_LOSS_REASON_FIELD": "reason'; drop table x; --"},
        check=False,
    )
    assert result.returncode != 0
    assert "CRM_SALESFORCE_LOSS_REASON_FIELD" in result.stdout
    assert "not a column name" in result.stdout
