"""The extract on a synced Salesforce schema: raw named and typed as the synced tables (`user` included), incremental
on `_fivetran_synced`, deleted rows kept as the sync flags them, optional objects and columns the sync lacks landed
empty or null with a note, and a missing required object stopping the run before anything is extracted. On a
SQLite source and on Postgres, where syncs land."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from crm_salesforce import SOURCE_TABLES, source_table, with_loss_reason_field
from orchestration.incremental_load import load_table, read_watermark
from orchestration.source_check import SourceCheckError, check_source
from orchestration.source_reader import SourceReader
from orchestration.transient_errors import SourceRetries
from tests.support.raw_engines import RawEngine
from tests.support.salesforce_db import FIRST_SYNCED, create_salesforce_database, execute, sf_id

OPPORTUNITY = source_table("opportunity")
USER = source_table("user")
QUOTA = source_table("forecasting_quota")
NEWEST = FIRST_SYNCED + timedelta(hours=12)  # row 12's _fivetran_synced


@pytest.fixture()
def salesforce(tmp_path: Path) -> str:
    return create_salesforce_database(tmp_path / "salesforce.sqlite")


def load(con: duckdb.DuckDBPyConnection, url: str, table, load_id: str, **options):
    return load_table(con, SourceReader(url), table, load_id=load_id, **options)


def test_every_salesforce_table_lands_in_raw_under_its_own_name_typed_as_declared(salesforce, warehouse):
    for table in SOURCE_TABLES:
        landed, merged = load(warehouse, salesforce, table, "run-1")
        assert (landed.rows_read, merged.rows_inserted, landed.mode) == (12, 12, "full_refresh"), table.name
    assert warehouse.execute(
        'select id, name, manager_id, is_active, _fivetran_deleted from raw."user" where id = ?', [sf_id("user", 2)]
    ).fetchall() == [("0055g0000000002AAA", "name-2", sf_id("user", 1), True, False)]
    types = dict(
        warehouse.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'opportunity'"
        ).fetchall()
    )
    assert {name: types[name] for name in ("id", "amount", "close_date", "is_won", "_fivetran_synced", "_load_id")} == {
        "id": "VARCHAR",
        "amount": "DECIMAL(18,2)",
        "close_date": "DATE",
        "is_won": "BOOLEAN",
        "_fivetran_synced": "TIMESTAMP",
        "_load_id": "VARCHAR",
    }
    assert read_watermark(warehouse, "opportunity") == NEWEST


def test_a_synced_table_is_read_on_fivetran_synced_and_keeps_the_rows_the_sync_marks_deleted(salesforce, warehouse):
    load(warehouse, salesforce, OPPORTUNITY, "run-1")
    later = NEWEST + timedelta(hours=3)
    # the sync rewrites opportunity 3 (edited in the org), flags 4 deleted in the org (recycle bin) and 5 gone from
    # it (hard-deleted or purged: _fivetran_deleted); opportunity 6 is untouched
    execute(
        salesforce,
        "update opportunity set amount = 7, _fivetran_synced = :t where id = :id",
        t=later,
        id=sf_id("opportunity", 3),
    )
    execute(
        salesforce,
        "update opportunity set is_deleted = 1, _fivetran_synced = :t where id = :id",
        t=later,
        id=sf_id("opportunity", 4),
    )
    execute(
        salesforce,
        "update opportunity set _fivetran_deleted = 1, _fivetran_synced = :t where id = :id",
        t=later,
        id=sf_id("opportunity", 5),
    )

    landed, merged = load(warehouse, salesforce, OPPORTUNITY, "run-2", lookback=timedelta(0))

    # read: 3, 4 and 5, and 12, synced at the watermark itself (the read is inclusive)
    assert (landed.mode, landed.read_since, landed.rows_read) == ("incremental", NEWEST, 4)
    assert (merged.rows_inserted, merged.rows_updated, merged.hard_deleted) == (0, 4, 0)
    assert warehouse.execute(
        "select right(id, 5), amount, is_deleted, _fivetran_deleted, _load_id from raw.opportunity "
        "where id in (?, ?, ?, ?) order by id",
        [sf_id("opportunity", i) for i in (3, 4, 5, 6)],
    ).fetchall() == [
        ("03AAA", 7, False, False, "run-2"),
        ("04AAA", pytest.approx(400.5), True, False, "run-2"),  # kept in raw: dbt drops deleted rows
        ("05AAA", pytest.approx(500.5), False, True, "run-2"),
        ("06AAA", pytest.approx(600.5), False, False, "run-1"),
    ]
    assert read_watermark(warehouse, "opportunity") == later


def test_an_optional_object_the_sync_lacks_lands_as_an_empty_raw_table_with_a_note(tmp_path, warehouse):
    url = create_salesforce_database(tmp_path / "salesforce.sqlite", leave_out={"forecasting_quota": None})
    reader = SourceReader(url)
    for run in ("run-1", "run-2"):
        landed, merged = load_table(warehouse, reader, QUOTA, load_id=run)
        assert (landed.rows_read, merged.rows_inserted) == (0, 0)
    assert reader.absence_note(QUOTA) == (
        "optional table 'forecasting_quota' is not in the CRM database (not synced): raw.forecasting_quota is empty, "
        "and what is built from it stays empty (docs/sources.md)"
    )
    assert warehouse.execute("select count(*) from raw.forecasting_quota").fetchone() == (0,)
    assert [row[0] for row in warehouse.execute("describe raw.forecasting_quota").fetchall()][:3] == [
        "id",
        "quota_owner_id",
        "start_date",
    ]
    # a table that is there says nothing
    load_table(warehouse, reader, OPPORTUNITY, load_id="run-1")
    assert reader.absence_note(OPPORTUNITY) is None


@pytest.mark.parametrize("route", ["scanner", "connectorx"])
def test_a_single_currency_org_lands_its_opportunities_with_a_null_currency(tmp_path, warehouse, monkeypatch, route):
    if route == "connectorx":
        monkeypatch.setitem(sys.modules, "duckdb_extension_sqlite_scanner", None)  # as without the scanner's wheel
    url = create_salesforce_database(tmp_path / "salesforce.sqlite", leave_out={"opportunity": ("currency_iso_code",)})
    reader = SourceReader(url)
    landed, _ = load_table(warehouse, reader, OPPORTUNITY, load_id="run-1")
    assert landed.rows_read == 12
    assert warehouse.execute(
        "select count(*), count(currency_iso_code), sum(amount) from raw.opportunity"
    ).fetchone() == (12, 0, pytest.approx(sum(100 * i + 0.5 for i in range(1, 13))))
    assert "currency_iso_code of 'opportunity' are not in the CRM database: raw keeps them null" in (
        reader.absence_note(OPPORTUNITY) or ""
    )


def check_salesforce(url: str) -> None:
    check_source(url, SourceRetries(0), as_of=None, system="salesforce")


def test_a_sync_missing_a_required_object_or_field_stops_the_run_naming_it_and_optional_ones_do_not(tmp_path):
    optional_only = create_salesforce_database(
        tmp_path / "optional.sqlite",
        leave_out={"forecasting_quota": None, "currency_type": None, "opportunity": ("currency_iso_code",)},
    )
    check_salesforce(optional_only)
    url = create_salesforce_database(
        tmp_path / "incomplete.sqlite", leave_out={"opportunity_history": None, "opportunity": ("stage_name",)}
    )
    with pytest.raises(SourceCheckError) as stopped:
        check_salesforce(url)
    message = str(stopped.value)
    assert "(CRM_SOURCE_SYSTEM=salesforce): the database is not Salesforce as the pipeline reads it" in message
    assert "table 'opportunity_history' is missing" in message
    assert "table 'opportunity' lacks column(s) stage_name;" in message
    assert "forecasting_quota" not in message and "currency_iso_code" not in message
    assert "Nothing was extracted" in message


def test_a_postgres_sync_lands_user_deleted_rows_and_absent_objects_on_either_warehouse(
    postgres, raw_engine: RawEngine
):
    """Syncs land in Postgres, in a schema of their own (Fivetran's is named after the connector): the URL's
    search_path points at it. `user` is a reserved word there, read quoted; the rest as from SQLite."""
    database = postgres.url(postgres.create_database())
    engine = sa.create_engine(database)
    with engine.begin() as con:
        con.exec_driver_sql("create schema salesforce")
    engine.dispose()
    url = create_salesforce_database(
        f"{database}?options=-csearch_path%3Dsalesforce",
        leave_out={"dated_conversion_rate": None, "opportunity": ("currency_iso_code",)},
    )
    execute(url, "update opportunity set _fivetran_deleted = true where id = :id", id=sf_id("opportunity", 2))
    reader = SourceReader(url)
    check_salesforce(url)
    for table in (USER, OPPORTUNITY, source_table("dated_conversion_rate")):
        landed, merged = raw_engine.load(reader, table, load_id="run-1")
        assert merged.rows_inserted == (0 if table.name == "dated_conversion_rate" else 12), table.name
    users = raw_engine.rows("user")
    assert len(users) == 12 and users[0][:2] == (sf_id("user", 1), "name-1")
    opportunities = {row[0]: row for row in raw_engine.rows("opportunity")}
    columns = OPPORTUNITY.column_names
    deleted = opportunities[sf_id("opportunity", 2)]
    assert deleted[columns.index("_fivetran_deleted")] is True and deleted[columns.index("currency_iso_code")] is None
    assert raw_engine.rows("dated_conversion_rate") == []
    assert raw_engine.watermark("opportunity") == NEWEST
    execute(
        url,
        "update opportunity set stage_name = 'Stage 9', _fivetran_synced = :t where id = :id",
        t=NEWEST + timedelta(hours=1),
        id=sf_id("opportunity", 1),
    )
    landed, merged = raw_engine.load(reader, OPPORTUNITY, load_id="run-2", lookback=timedelta(0))
    assert (landed.mode, landed.rows_read, merged.rows_updated) == ("incremental", 2, 2)


def test_the_extract_clock_cap_compares_fivetran_synced_in_utc(salesforce, warehouse):
    # The sync writes UTC (Settings.source_times_timezone is None for salesforce): a row synced an hour ago moves the
    # watermark to then, not to a local time.
    an_hour_ago = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    execute(
        salesforce,
        "update opportunity set _fivetran_synced = :t where id = :id",
        t=an_hour_ago,
        id=sf_id("opportunity", 1),
    )
    _, merged = load(warehouse, salesforce, OPPORTUNITY, "run-1")
    assert (merged.watermark_after, merged.rows_beyond_watermark_cap) == (an_hour_ago, None)


def test_a_table_synced_without_fivetran_synced_is_read_on_system_modstamp(tmp_path, warehouse):
    url = create_salesforce_database(tmp_path / "salesforce.sqlite", leave_out={"opportunity": ("_fivetran_synced",)})
    check_salesforce(url)  # one of the watermark columns is enough
    reader = SourceReader(url)
    load_table(warehouse, reader, OPPORTUNITY, load_id="run-1")
    assert "'opportunity' is read incrementally on system_modstamp" in (reader.absence_note(OPPORTUNITY) or "")
    newest = NEWEST - timedelta(days=1)  # row 12's system_modstamp (tests/support/salesforce_db.py)
    assert read_watermark(warehouse, "opportunity") == newest
    later = NEWEST + timedelta(hours=3)
    execute(
        url,
        "update opportunity set amount = 7, system_modstamp = :t where id = :id",
        t=later,
        id=sf_id("opportunity", 3),
    )

    landed, _ = load_table(warehouse, reader, OPPORTUNITY, load_id="run-2", lookback=timedelta(0))

    # read: 3, and 12 at the watermark itself (the read is inclusive)
    assert (landed.mode, landed.read_since, landed.rows_read) == ("incremental", newest, 2)
    assert read_watermark(warehouse, "opportunity") == later
    assert warehouse.execute(
        "select amount, count(_fivetran_synced) over () from raw.opportunity where id = ?", [sf_id("opportunity", 3)]
    ).fetchall() == [(7, 0)]
    # a table with neither column cannot be read incrementally: the source check stops the run, naming it
    neither = create_salesforce_database(
        tmp_path / "neither.sqlite", leave_out={"opportunity": ("_fivetran_synced", "system_modstamp")}
    )
    with pytest.raises(SourceCheckError) as stopped:
        check_salesforce(neither)
    assert "table 'opportunity' lacks all of its watermark columns _fivetran_synced, system_modstamp" in str(
        stopped.value
    )


def test_a_loss_reason_field_set_on_an_existing_warehouse_is_added_to_raw_and_read_for_every_row(salesforce, warehouse):
    """CRM_SALESFORCE_LOSS_REASON_FIELD named after raw.opportunity was created: the column is added and the table
    read whole once (an incremental read would leave the older rows' reasons null), then incrementally again."""
    execute(salesforce, "alter table opportunity add column loss_reason_c text")
    execute(salesforce, "update opportunity set loss_reason_c = 'Price' where id = :id", id=sf_id("opportunity", 2))
    load(warehouse, salesforce, OPPORTUNITY, "run-1")
    (with_field,) = [t for t in with_loss_reason_field("loss_reason_c") if t.name == "opportunity"]

    landed, _ = load(warehouse, salesforce, with_field, "run-2")

    assert (landed.mode, landed.rows_read, landed.raw_columns_added) == ("full_refresh", 12, ("loss_reason_c",))
    assert warehouse.execute(
        "select count(loss_reason_c), max(loss_reason_c) from raw.opportunity where id = ?", [sf_id("opportunity", 2)]
    ).fetchone() == (1, "Price")
    again, _ = load(warehouse, salesforce, with_field, "run-3")
    assert (again.mode, again.raw_columns_added) == ("incremental", ())
