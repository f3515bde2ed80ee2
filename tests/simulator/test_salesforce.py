"""The simulator speaks Salesforce (issue 22 §3): the business as Fivetran syncs an org, by the inverse of
sources.md's Salesforce mapping, beside its contract-shaped record.

The oracle here is sources.md's mapping written out in Python (`mapped_*`): applied to the synced tables it
must give back the contract record row for row, so the dbt mapping and the simulator answer to the same text.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

import simulator
from crm_contract import SOURCE_TABLES as CONTRACT_TABLES
from crm_salesforce import SOURCE_TABLES as SALESFORCE_TABLES
from crm_salesforce.source import KEY_PREFIXES
from simulator.catalogue import OPEN_STAGE_WIN_PERCENT, OPEN_STAGES, STAGE_LABELS
from simulator.cli import main
from simulator.salesforce import LOSS_REASON_FIELD, WRITTEN_TABLES, contract_id_of, salesforce_ids
from simulator.timeline import NULL
from tests.simulator.conftest import END_DATE, SCALE, _cached_reader, read_rows, sqlite_url
from tests.support.servers import Server

SEED = 42
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def salesforce_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("salesforce") / "salesforce.sqlite"
    simulator.generate(
        sqlite_url(path), opportunities=SCALE, seed=SEED, end_date=END_DATE, quiet=True, system="salesforce"
    )
    return path


@pytest.fixture(scope="module")
def sf(salesforce_db):
    """Rows of the Salesforce database's tables (synced and contract record), read once."""
    return _cached_reader(salesforce_db)


@pytest.fixture
def salesforce_crm(salesforce_db, tmp_path) -> str:
    copy = tmp_path / "salesforce.sqlite"
    shutil.copy(salesforce_db, copy)
    return sqlite_url(copy)


# sources.md's Salesforce mapping, in Python -------------------------------------------------------------


def key(salesforce_id: str | None) -> int | None:
    return None if salesforce_id is None else contract_id_of(salesforce_id)


def live(row: dict) -> bool:
    return not row["_fivetran_deleted"]


def midnight(day) -> datetime:
    return datetime.combine(day, time())


def mapped_opportunities(rows) -> dict[int, dict]:
    return {
        key(r["id"]): {
            "customer_id": key(r["account_id"]),
            "owner_user_id": key(r["owner_id"]),
            "name": r["name"],
            "source": r["lead_source"],
            "stage": r["stage_name"],
            "amount": r["amount"],
            "currency": r["currency_iso_code"],
            "expected_close_date": r["close_date"],
            "status": "won" if r["is_won"] else "lost" if r["is_closed"] else "open",
            "loss_reason": r[LOSS_REASON_FIELD],
            "created_at": r["created_date"],
            "closed_at": midnight(r["close_date"]) if r["is_closed"] else None,
            "is_deleted": r["is_deleted"] or r["_fivetran_deleted"],
        }
        for r in rows("opportunity")
    }


def mapped_stage_changes(rows) -> list[tuple]:
    """(opportunity, from, to, changed_at): history rows whose stage differs from the opportunity's previous row."""
    changes, previous = [], {}
    for r in sorted(rows("opportunity_history"), key=lambda r: (r["opportunity_id"], r["created_date"], r["id"])):
        if not live(r) or r["is_deleted"]:
            continue
        before = previous.get(r["opportunity_id"])
        if before != r["stage_name"]:
            changes.append((key(r["opportunity_id"]), before, r["stage_name"], r["created_date"]))
        previous[r["opportunity_id"]] = r["stage_name"]
    return sorted(changes, key=_change_order)


def _change_order(change: tuple) -> tuple:
    deal, before, after, at = change
    return deal, at, before or "", after


def recorded_stage_changes(rows) -> list[tuple]:
    history = rows("opportunity_stage_history")
    return sorted(
        ((r["opportunity_id"], r["from_stage"], r["to_stage"], r["changed_at"]) for r in history), key=_change_order
    )


def mapped_activities(rows) -> dict[int, dict]:
    out = {}
    for table, subtype in (("task", "task_subtype"), ("event", "event_subtype")):
        for r in rows(table):
            what = r["what_id"]
            out[key(r["id"])] = {
                "customer_id": key(r["account_id"]),
                "opportunity_id": key(what) if what and what.startswith(KEY_PREFIXES["opportunity"]) else None,
                "user_id": key(r["owner_id"]),
                "activity_type": r[subtype].lower(),
                "occurred_at": r.get("activity_date_time") or midnight(r["activity_date"]),
                "is_deleted": r["is_deleted"],
            }
    return out


def contract_rows(rows, table: str, id_column: str, columns: list[str]) -> dict[int, dict]:
    return {r[id_column]: {c: r[c] for c in columns} for r in rows(table)}


# Tests ------------------------------------------------------------------------------------------------


def test_generate_salesforce_writes_the_synced_tables_with_18_character_ids(salesforce_db, sf):
    engine = create_engine(sqlite_url(salesforce_db))
    try:
        tables = set(inspect(engine).get_table_names())
        for table in SALESFORCE_TABLES:
            if table.name not in WRITTEN_TABLES:  # an org without advanced currency management
                assert table.name not in tables and table.optional
                continue
            columns = {c["name"] for c in inspect(engine).get_columns(table.name)}
            assert set(table.column_names) <= columns, table.name
            indexed = {tuple(i["column_names"]) for i in inspect(engine).get_indexes(table.name)}
            assert ("_fivetran_synced",) in indexed, table.name
            ids = [r["id"] for r in sf(table.name)]
            assert ids and len(set(ids)) == len(ids), table.name
            assert {(len(i), i[:3]) for i in ids} == {(18, KEY_PREFIXES[table.name])}, table.name
            assert not any(r["_fivetran_deleted"] for r in sf(table.name)), table.name
    finally:
        engine.dispose()


def test_ids_carry_salesforce_case_safe_suffix_and_read_back():
    # The suffix flags the upper-case letters of each five-character chunk: D is the 5th of the third chunk.
    assert salesforce_ids("account", [13, 1]).tolist() == ["0015g000000000DAAQ", "0015g0000000001AAA"]
    assert salesforce_ids("user", [NULL]).tolist() == [None]
    assert contract_id_of("0065g000000003FAAQ") == 3 * 62 + 15  # base 62: 0-9, then A = 10 .. F = 15
    with pytest.raises(ValueError, match="62\\*\\*9"):
        salesforce_ids("opportunity", [62**9])


def test_the_stage_picklist_is_the_seed_catalogue(sf):
    """api_name = the contract stage, master_label = the seed's label, default_probability = its win probability."""
    with open(REPO / "dbt_project" / "seeds" / "stage_catalogue.csv", encoding="utf-8") as seed:
        header, *lines = [line.rstrip("\n").split(",") for line in seed]
    catalogue = {line[0]: dict(zip(header, line)) for line in lines}
    stages = sorted(sf("opportunity_stage"), key=lambda r: r["sort_order"])
    assert [r["api_name"] for r in stages] == [*OPEN_STAGES, "won", "lost"] == list(catalogue)
    for r in stages:
        assert r["master_label"] == catalogue[r["api_name"]]["label_zh"] == STAGE_LABELS[r["api_name"]]
        assert float(r["default_probability"]) == round(float(catalogue[r["api_name"]]["win_probability"]) * 100)
        assert (r["is_closed"], r["is_won"]) == (r["api_name"] in ("won", "lost"), r["api_name"] == "won")
    assert [float(r["default_probability"]) for r in stages[:5]] == list(OPEN_STAGE_WIN_PERCENT)


def test_opportunities_map_back_to_the_contract_record(sf):
    """Status from is_won/is_closed, closed_at = close date at 00:00 UTC, expected close = close date."""
    columns = list(next(iter(mapped_opportunities(sf).values())))
    recorded = contract_rows(sf, "opportunities", "opportunity_id", columns)
    assert mapped_opportunities(sf) == recorded
    statuses = Counter(r["status"] for r in recorded.values())
    assert statuses["won"] and statuses["lost"] and statuses["open"], statuses


def test_stage_changes_map_back_to_the_contract_history(sf):
    recorded = sorted(
        (
            (r["opportunity_id"], r["from_stage"], r["to_stage"], r["changed_at"])
            for r in sf("opportunity_stage_history")
        ),
        key=_change_order,
    )
    assert mapped_stage_changes(sf) == recorded
    assert any(to in ("won", "lost") for _, _, to, _ in recorded), "a closing is a history row, as in Salesforce"


def test_contracts_are_the_won_opportunities(sf):
    """One per won opportunity: its id, amount and currency, signed on the close date, active; no payments."""
    won = {key(r["id"]): r for r in sf("opportunity") if r["is_won"]}
    contracts = {r["contract_id"]: r for r in sf("contracts")}
    assert contracts.keys() == won.keys() and won
    for number, contract in contracts.items():
        deal = won[number]
        assert contract["opportunity_id"] == number
        assert (contract["amount"], contract["currency"]) == (deal["amount"], deal["currency_iso_code"])
        assert contract["signed_date"] == deal["close_date"] and contract["status"] == "active"
        assert contract["is_deleted"] == deal["is_deleted"]
    for table in ("payment_plans", "payments", "invoices", "satisfaction_surveys", "marketing_spend", "fx_rates"):
        assert sf(table) == [], table


def test_accounts_users_products_activities_and_quotas_map_back(sf):
    accounts = {
        key(r["id"]): (r["industry"], r["billing_city"], r["billing_state"], r["billing_country"], r["rating"])
        + (r["account_source"], key(r["owner_id"]), r["is_deleted"], r["created_date"])
        for r in sf("account")
    }
    assert accounts == {
        r["customer_id"]: (r["industry"], r["city"], r["province"], r["region"], r["level"], r["source"])
        + (r["owner_user_id"], r["is_deleted"], r["created_at"])
        for r in sf("customers")
    }
    assert all(owner is not None for *_, owner, _, _ in accounts.values()), "Salesforce has no public pool"
    users = {
        key(r["id"]): (key(r["user_role_id"]), key(r["manager_id"]), r["division"], r["is_active"], r["created_date"])
        for r in sf("user")
    }
    assert users == {
        r["user_id"]: (r["department_id"], r["manager_user_id"], r["region"], r["is_active"], r["hired_at"])
        for r in sf("users")
    }
    assert {r["list_price"] for r in sf("products")} == {None}, "a Salesforce product has no price of its own"
    assert mapped_activities(sf) == contract_rows(
        sf,
        "activities",
        "activity_id",
        ["customer_id", "opportunity_id", "user_id", "activity_type"] + ["occurred_at", "is_deleted"],
    )
    assert {r["task_subtype"] for r in sf("task")} == {"Call", "Email"}
    assert all(r["occurred_at"].time() == time() for r in sf("activities") if r["activity_type"] != "event")
    quotas = sorted((key(r["quota_owner_id"]), r["start_date"], r["quota_amount"]) for r in sf("forecasting_quota"))
    assert quotas == sorted((r["user_id"], r["target_month"], r["contract_amount_target"]) for r in sf("sales_targets"))
    assert {(r["payment_amount_target"], r["new_customer_target"]) for r in sf("sales_targets")} == {(None, None)}


def test_fivetran_synced_is_each_rows_last_write(sf):
    for r in sf("opportunity"):
        assert r["_fivetran_synced"] == r["last_modified_date"]
    assert [(r["iso_code"], r["is_corporate"]) for r in sf("currency_type")] == [("CNY", True)]


def test_salesforce_compatible_alone_writes_the_same_contract_record(salesforce_db, tmp_path):
    path = tmp_path / "compatible.sqlite"
    simulator.generate(
        sqlite_url(path), opportunities=SCALE, seed=SEED, end_date=END_DATE, quiet=True, salesforce_compatible=True
    )
    simulator.advance(sqlite_url(path), 2)
    copy = tmp_path / "salesforce.sqlite"
    shutil.copy(salesforce_db, copy)
    simulator.advance(sqlite_url(copy), 2)
    for table in CONTRACT_TABLES:
        assert read_rows(sqlite_url(copy), table.name) == read_rows(sqlite_url(path), table.name), table.name


def test_advance_syncs_what_the_days_changed_and_both_shapes_stay_one_business(salesforce_crm):
    before = max(r["_fivetran_synced"] for r in read_rows(salesforce_crm, "opportunity"))
    summary = simulator.advance(salesforce_crm, 3)
    assert summary.inserted["opportunity_history"] > 0 and summary.updated["opportunity"] > 0
    rows = _cached_reader(Path(salesforce_crm.removeprefix("sqlite:///")))
    changed = [r for r in rows("opportunity") if r["_fivetran_synced"] > before]
    assert changed and all(r["_fivetran_synced"].date() > END_DATE for r in changed)
    columns = list(next(iter(mapped_opportunities(rows).values())))
    assert mapped_opportunities(rows) == contract_rows(rows, "opportunities", "opportunity_id", columns)
    assert mapped_stage_changes(rows) == recorded_stage_changes(rows)
    assert {r["contract_id"] for r in rows("contracts")} == {key(r["id"]) for r in rows("opportunity") if r["is_won"]}


def test_duplicated_ids_are_synced_twice(salesforce_crm):
    injected = simulator.inject(salesforce_crm, "duplicated_ids", count=3)
    counts = Counter(r["id"] for r in read_rows(salesforce_crm, "opportunity"))
    assert injected.table == "opportunity" and [counts[i] for (i,) in injected.keys] == [2, 2, 2]


def test_an_amount_only_history_row_is_no_stage_change(salesforce_crm):
    path = Path(salesforce_crm.removeprefix("sqlite:///"))
    changes = mapped_stage_changes(_cached_reader(path))
    injected = simulator.inject(salesforce_crm, "amount_only_history", count=3)
    rows = _cached_reader(path)
    assert mapped_stage_changes(rows) == changes
    history = [r for r in rows("opportunity_history") if r["opportunity_id"] in {i for (i,) in injected.keys}]
    assert len(history) > len({r["opportunity_id"] for r in history}) + 2  # three more rows
    deals = {r["id"]: r for r in rows("opportunity")}
    for (deal,) in injected.keys:
        latest = max((r for r in history if r["opportunity_id"] == deal), key=lambda r: (r["created_date"], r["id"]))
        assert latest["stage_name"] == deals[deal]["stage_name"] and latest["amount"] == deals[deal]["amount"]


def test_unknown_stage_names_and_fivetran_deleted_rows(salesforce_crm):
    names = {r["api_name"] for r in read_rows(salesforce_crm, "opportunity_stage")}
    unknown = simulator.inject(salesforce_crm, "unknown_stage_names", count=2)
    gone = simulator.inject(salesforce_crm, "fivetran_deleted", count=2, table="account")
    accounts = {r["id"]: r for r in read_rows(salesforce_crm, "account")}
    deals = {r["id"]: r for r in read_rows(salesforce_crm, "opportunity")}
    assert all(deals[i]["stage_name"] not in names for (i,) in unknown.keys)
    assert all(accounts[i]["_fivetran_deleted"] and not accounts[i]["is_deleted"] for (i,) in gone.keys)


def test_defects_are_checked_against_the_salesforce_shape(salesforce_crm, crm):
    with pytest.raises(ValueError, match="is a Salesforce defect"):
        simulator.inject(crm, "duplicated_ids")
    with pytest.raises(ValueError, match="is a Salesforce database"):
        simulator.inject(salesforce_crm, "unknown_stages")
    assert simulator.inject(salesforce_crm, "negative_amounts", table="opportunity", count=2).column == "amount"


def test_generate_salesforce_from_the_command_line(tmp_path, capsys):
    url = sqlite_url(tmp_path / "sf.sqlite")
    arguments = ["generate", "--url", url, "--opportunities", "40", "--end-date", "2026-11-20", "--quiet"]
    assert main([*arguments, "--system", "salesforce", "--defect", "fivetran_deleted"]) == 0
    out = capsys.readouterr().out
    assert "opportunity_history " in out and "defect fivetran_deleted" in out
    assert main(["advance", "--url", url]) == 0
    assert main([*arguments, "--replace", "--system", "salesforce", "--wukong-compatible"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_salesforce_database_on_postgres_holds_the_rows_sqlite_got(postgres: Server, salesforce_db):
    url = postgres.url(postgres.create_database())
    simulator.generate(url, opportunities=SCALE, seed=SEED, end_date=END_DATE, quiet=True, system="salesforce")
    for table in WRITTEN_TABLES:
        ours = sorted(read_rows(url, table), key=lambda r: (r["id"], r["_fivetran_synced"]))
        theirs = sorted(read_rows(sqlite_url(salesforce_db), table), key=lambda r: (r["id"], r["_fivetran_synced"]))
        assert ours == theirs, table
    assert simulator.advance(url, 3).inserted["opportunity_history"] > 0
    assert simulator.inject(url, "amount_only_history", count=2).keys
