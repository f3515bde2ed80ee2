"""File drops: the sensor starts a run for a new file, skips one already loaded and rejects a broken one; a
dropped file goes landing → gate 1 → raw like a database batch, then to the archive, exactly once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.alerts import error_text
from tests.orchestration.conftest import OpsFolder, evaluate_sensor, run_extract
from tests.support.file_drops import customers_export, drop


@pytest.fixture()
def ops(ops_crm: OpsFolder, tmp_path: Path) -> OpsFolder:
    return ops_crm.copy_to(tmp_path / "data")


def evaluate_file_drop_sensor(folder: OpsFolder, instance: dg.DagsterInstance):
    return evaluate_sensor(folder.definitions(), instance, "crm_file_drops")


def test_a_new_file_starts_a_run_that_loads_it_into_raw_once_and_archives_it(ops: OpsFolder):
    csv_text, (renamed, older, new) = customers_export(ops.warehouse_path)
    drop(ops.landing_dir, "customers_2026-06-30.csv", csv_text)
    with duckdb.connect(str(ops.warehouse_path), read_only=True) as con:
        watermark = con.execute("select watermark from raw._extract_state where table_name = 'customers'").fetchone()
        raw_before = con.execute("select count(*) from raw.customers").fetchone()[0]

    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_file_drop_sensor(ops, instance)
        assert isinstance(request, dg.RunRequest)
        selected = {key.to_user_string() for key in request.asset_selection}
        assert {"landing/customers", "raw/customers", "marts/fct_opportunities", "published/crm_warehouse"} <= selected
        assert "landing/opportunities" not in selected  # other tables are not re-read from the database

        result = run_extract(ops.definitions(), instance, "customers", tags=request.tags)
        assert result.success

        with duckdb.connect(str(ops.warehouse_path), read_only=True) as con:
            names = dict(con.execute("select customer_id, name from raw.customers").fetchall())
            assert con.execute("select count(*) from raw.customers").fetchone()[0] == raw_before + 1
            assert (
                con.execute("select watermark from raw._extract_state where table_name = 'customers'").fetchone()
                == watermark
            )
        assert names[renamed[0]] == "Renamed In Export Ltd"
        assert names[new[0]] == "Dropped File Co"
        assert names[older[0]] != "Stale Export Name"  # an older version in a file never overwrites a newer one
        assert list(ops.landing_dir.glob("*.csv")) == []
        assert (ops.landing_dir / "archive" / "customers_2026-06-30.csv").read_text() == csv_text

        # The same content again, under another name: recognised by its checksum, archived, not loaded.
        drop(ops.landing_dir, "customers_again.csv", csv_text)
        assert isinstance(evaluate_file_drop_sensor(ops, instance), dg.SkipReason)
        assert (ops.landing_dir / "archive" / "customers_again.csv").exists()
        assert not (ops.landing_dir / "customers_again.csv").exists()


def test_broken_files_are_rejected_with_their_reason_and_start_no_run(ops: OpsFolder):
    drop(ops.landing_dir, "opportunities.csv", "opportunity_id,customer_id,updated_at\n1,1,2026-06-01 00:00:00\n")
    drop(
        ops.landing_dir,
        "payments.csv",
        "payment_id,contract_id,plan_id,amount,paid_date,method,is_deleted,updated_at\n"
        "1,1,1,twelve,2026-06-01,wire,false,2026-06-01 00:00:00\n",
    )
    drop(ops.landing_dir, "leads.csv", "lead_id\n1\n")
    drop(ops.landing_dir, "contacts.parquet", b"not a parquet file at all")

    with dg.DagsterInstance.ephemeral() as instance:
        assert isinstance(evaluate_file_drop_sensor(ops, instance), dg.SkipReason)

    rejected = ops.landing_dir / "rejected"
    reasons = {path.name.removesuffix(".reason.txt"): path.read_text() for path in rejected.glob("*.reason.txt")}
    assert set(reasons) == {"opportunities.csv", "payments.csv", "leads.csv", "contacts.parquet"}
    assert all((rejected / name).exists() for name in reasons)
    assert "missing column(s) ['owner_user_id', 'name'" in reasons["opportunities.csv"]
    assert 'converting column "amount"' in reasons["payments.csv"] and "twelve" in reasons["payments.csv"]
    assert "does not start with a CRM source table" in reasons["leads.csv"]
    assert "cannot be read as Parquet" in reasons["contacts.parquet"]
    assert list(ops.landing_dir.glob("*.*")) == []


def test_a_file_changed_after_the_sensor_accepted_it_is_rejected_by_the_run_which_names_it(ops: OpsFolder):
    csv_text, _ = customers_export(ops.warehouse_path)
    path = drop(ops.landing_dir, "customers.csv", csv_text)
    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_file_drop_sensor(ops, instance)
        path.write_text(csv_text.replace("customer_id,", "customer_key,", 1))  # overwritten before the run
        result = run_extract(ops.definitions(), instance, "customers", tags=request.tags)
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    message = error_text(failure.event_specific_data.error)
    assert "customers.csv" in message and "changed since the sensor accepted it" in message
    assert "changed since" in (ops.landing_dir / "rejected" / "customers.csv.reason.txt").read_text()


@pytest.mark.parametrize(
    "name, table",
    [
        ("opportunities.csv", "opportunities"),
        ("opportunity_products_2026-06.csv", "opportunity_products"),
        ("opportunity_stage_history-week26.parquet", "opportunity_stage_history"),
        ("payment_plans.2026.csv", "payment_plans"),
        ("payments_june.csv", "payments"),
        ("paymentsjune.csv", None),
        ("leads.csv", None),
    ],
)
def test_a_file_is_matched_to_the_longest_table_name_it_starts_with(name: str, table: str | None):
    from orchestration.file_drops import table_for_file

    matched = table_for_file(name)
    assert (matched.name if matched else None) == table


def test_a_parquet_export_is_read_with_the_contract_types(tmp_path: Path):
    from crm_contract import source_table
    from orchestration.file_reader import FileReader

    path = tmp_path / "payments.parquet"
    duckdb.execute(  # amounts as text and ids as 32-bit integers, as exports often have them
        f"copy (select 7::integer as payment_id, 3::integer as contract_id, null::integer as plan_id, "
        f"'1250.50' as amount, '2026-06-01' as paid_date, 'wire' as method, false as is_deleted, "
        f"timestamp '2026-06-01 10:00:00' as updated_at, 'x' as exported_by) to '{path}' (format parquet)"
    )
    reader = FileReader(path)
    table = source_table("payments")
    assert reader.check_columns(table) == ["exported_by"]
    batch = reader.read(table)
    assert batch.column_names == list(table.column_names)
    assert str(batch.schema.field("amount").type) == "decimal128(18, 2)"
    assert batch.to_pylist()[0]["amount"] == Decimal("1250.50")
    assert str(batch.to_pylist()[0]["paid_date"]) == "2026-06-01"
