"""CRM_SOURCE_SYSTEM: the settings that choose and describe the CRM, the Dagster wiring that follows the choice
(raw assets, gate 1, file drops, the weekly full refresh, the dbt manifest), and the source check that stops a
run before extracting from a 悟空CRM database missing a table or column."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from orchestration.cli import main
from orchestration.definitions import build_definitions
from orchestration.settings import Settings, SettingsError
from orchestration.source_check import SourceCheckError, check_source
from orchestration.source_system import FILE_DROP_TABLES
from orchestration.transient_errors import SourceRetries
from tests.support.wukong_db import create_wukong_database

WUKONG = {"CRM_SOURCE_SYSTEM": "wukong"}


def test_the_source_settings_default_to_the_contract_and_to_shanghai_yuan():
    settings = Settings.from_environment({})
    assert (
        settings.source_system,
        settings.source_currency,
        settings.source_timezone,
        settings.wukong_stage_group,
        settings.wukong_region_field,
    ) == ("contract", "CNY", "Asia/Shanghai", "", "region")
    assert settings.source_times_timezone is None  # the contract's times are UTC
    assert Settings.from_environment(WUKONG).source_times_timezone == "Asia/Shanghai"


def test_salesforce_reads_utc_times_and_passes_its_loss_reason_column_to_dbt():
    settings = Settings.from_environment(
        {"CRM_SOURCE_SYSTEM": "salesforce", "CRM_SALESFORCE_LOSS_REASON_FIELD": "loss_reason_c"}
    )
    assert settings.source_times_timezone is None  # the sync writes UTC
    assert settings.dbt_environment()["CRM_SALESFORCE_LOSS_REASON_FIELD"] == "loss_reason_c"
    assert Settings.from_environment({}).dbt_environment()["CRM_SALESFORCE_LOSS_REASON_FIELD"] == ""


def test_dbt_sees_every_source_setting():
    settings = Settings.from_environment(
        {
            **WUKONG,
            "CRM_SOURCE_CURRENCY": "HKD",
            "CRM_SOURCE_TIMEZONE": "Asia/Hong_Kong",
            "CRM_WUKONG_STAGE_GROUP": "默认商机组",
            "CRM_WUKONG_REGION_FIELD": "大区",
        }
    )
    exported = settings.dbt_environment()
    assert {name: exported[name] for name in exported if name.startswith(("CRM_SOURCE_", "CRM_WUKONG_"))} == {
        "CRM_SOURCE_SYSTEM": "wukong",
        "CRM_SOURCE_CURRENCY": "HKD",
        "CRM_SOURCE_TIMEZONE": "Asia/Hong_Kong",
        "CRM_WUKONG_STAGE_GROUP": "默认商机组",
        "CRM_WUKONG_REGION_FIELD": "大区",
    }


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "CRM_SOURCE_SYSTEM",
            "hubspot",
            "CRM_SOURCE_SYSTEM='hubspot' is not a CRM the pipeline reads: use one of contract, wukong, salesforce",
        ),
        ("CRM_SOURCE_CURRENCY", "yuan", "CRM_SOURCE_CURRENCY='yuan' is not an ISO 4217 code"),
        ("CRM_SOURCE_TIMEZONE", "Beijing", "CRM_SOURCE_TIMEZONE='Beijing' is not an IANA time zone"),
        ("CRM_WUKONG_REGION_FIELD", "region'; drop", 'CRM_WUKONG_REGION_FIELD="region\'; drop" has a quote'),
        ("CRM_WUKONG_STAGE_GROUP", 'a "b"', "CRM_WUKONG_STAGE_GROUP='a \"b\"' has a quote"),
        (
            "CRM_SALESFORCE_LOSS_REASON_FIELD",
            'loss_reason_c" or 1=1',
            "CRM_SALESFORCE_LOSS_REASON_FIELD='loss_reason_c\" or 1=1' is not a column name",
        ),
    ],
)
def test_a_bad_source_setting_is_refused_by_crm_warehouse_with_the_message_alone(
    monkeypatch, capsys, variable, value, message
):
    with pytest.raises(SettingsError, match="^" + message.replace("(", r"\(")[:40].replace("?", r"\?")):
        Settings.from_environment({variable: value})
    monkeypatch.setenv(variable, value)
    assert main(["run"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"crm-warehouse: {message}") and err.count("\n") == 1 and out == ""


def test_with_wukong_the_raw_assets_and_gate_1_are_the_wk_tables_and_the_file_drop_tables(tmp_path):
    definitions = build_definitions(Settings.from_environment({**WUKONG, "CRM_DATA_DIR": str(tmp_path)}))
    keys = {key.to_user_string() for key in definitions.resolve_asset_graph().get_all_asset_keys()}
    raw = {key.removeprefix("raw/") for key in keys if key.startswith("raw/") and "/_" not in key}
    landing = {key.removeprefix("landing/") for key in keys if key.startswith("landing/")}
    from crm_wukong import SOURCE_TABLES

    expected = {table.name for table in SOURCE_TABLES} | set(FILE_DROP_TABLES)
    assert landing == expected and expected <= raw
    assert "landing/opportunities" not in keys
    checks = {check.asset_key.path[-1] for check in definitions.resolve_asset_graph().asset_check_keys}
    assert {"wk_crm_contract", "wk_crm_business", "fx_rates"} <= checks and "opportunities" not in checks
    assert definitions.resources["crm_source"].system == "wukong"
    assert definitions.resources["file_drops"].source_system == "wukong"
    # a file a 悟空CRM user may drop: rates, spend, or one of its own tables; never a contract table it has not
    folder = definitions.resources["file_drops"].folder()
    from orchestration.file_drops import table_for_file

    assert table_for_file("fx_rates_2026-11.csv", folder.tables).name == "fx_rates"
    assert table_for_file("wk_crm_contract.parquet", folder.tables).name == "wk_crm_contract"
    assert table_for_file("opportunities.csv", folder.tables) is None


def test_with_salesforce_the_raw_assets_and_gate_1_are_the_synced_objects_and_the_file_drop_tables(tmp_path):
    definitions = build_definitions(
        Settings.from_environment({"CRM_SOURCE_SYSTEM": "salesforce", "CRM_DATA_DIR": str(tmp_path)})
    )
    graph = definitions.resolve_asset_graph()
    landing = {key.path[-1] for key in graph.get_all_asset_keys() if key.path[0] == "landing"}
    from crm_salesforce import SOURCE_TABLES

    assert landing == {table.name for table in SOURCE_TABLES} | set(FILE_DROP_TABLES)
    assert {"user", "opportunity", "forecasting_quota", "fx_rates"} <= {
        key.asset_key.path[-1] for key in graph.asset_check_keys
    }
    assert definitions.resources["crm_source"].system == "salesforce"
    # a single-currency org's currency (no currency_type rows): gate 1 then requires dropped rates for it
    assert definitions.resources["quality"].source_currency == "CNY"
    from orchestration.transform import crm_dbt_translator

    source = {"resource_type": "source", "source_name": "salesforce", "name": "user", "schema": "raw"}
    assert crm_dbt_translator.get_asset_key(source) == dg.AssetKey(["raw", "user"])


def test_no_two_source_systems_name_a_raw_table_alike():
    from orchestration.source_system import SOURCE_SYSTEMS

    names = [table.name for system in SOURCE_SYSTEMS.values() for table in system.database_tables]
    assert len(names) == len(set(names))


def test_the_contract_keeps_its_raw_assets(tmp_path):
    definitions = build_definitions(Settings.from_environment({"CRM_DATA_DIR": str(tmp_path)}))
    keys = {key.to_user_string() for key in definitions.resolve_asset_graph().get_all_asset_keys()}
    assert {"landing/opportunities", "raw/opportunities", "raw/fx_rates"} <= keys
    assert not any(key.startswith(("landing/wk_", "raw/wk_")) for key in keys)


def weekly(environment: dict[str, str]) -> dg.ScheduleDefinition:
    return build_definitions(Settings.from_environment(environment)).resolve_schedule_def("crm_elt_weekly_full_refresh")


def test_the_weekly_full_refresh_is_on_for_wukong_and_off_by_default_for_the_contract():
    on, off = weekly({**WUKONG, "CRM_SCHEDULE_TIMEZONE": "Asia/Shanghai"}), weekly({})
    assert on.default_status == dg.DefaultScheduleStatus.RUNNING
    assert off.default_status == dg.DefaultScheduleStatus.STOPPED
    assert (on.cron_schedule, on.execution_timezone, on.job_name) == ("0 3 * * 0", "Asia/Shanghai", "crm_elt")
    with dg.DagsterInstance.ephemeral() as instance:
        tick = datetime(2026, 12, 6, 3, 0)
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        (request,) = on.evaluate_tick(context).run_requests
    # the run tag that makes every extract read its table whole, recording hard deletes
    assert {**on.tags, **request.tags}.get("crm/full_refresh") == "true"


def test_the_dbt_translator_maps_a_wukong_source_to_its_raw_asset():
    from orchestration.transform import crm_dbt_translator

    source = {"resource_type": "source", "source_name": "wukong", "name": "wk_crm_business", "schema": "raw"}
    contract_source = {"resource_type": "source", "source_name": "crm", "name": "fx_rates", "schema": "raw"}
    assert crm_dbt_translator.get_asset_key(source) == dg.AssetKey(["raw", "wk_crm_business"])
    assert crm_dbt_translator.get_asset_key(contract_source) == dg.AssetKey(["raw", "fx_rates"])


def test_a_manifest_parsed_for_another_system_is_prepared_again(monkeypatch, tmp_path):
    from orchestration import dbt_project

    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    prepared: list[str] = []

    class Preparer:
        def using_dagster_dev(self) -> bool:
            return False

        def prepare(self, project):
            import os

            prepared.append(os.environ["CRM_SOURCE_SYSTEM"])  # dbt parses with the current setting

    monkeypatch.setattr(dbt_project, "crm_dbt_project", SimpleNamespace(manifest_path=manifest, preparer=Preparer()))
    monkeypatch.delenv("CRM_SOURCE_SYSTEM", raising=False)
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    # outside `dagster dev` the dev preparation parses nothing, and so records nothing either
    monkeypatch.setenv("CRM_SOURCE_SYSTEM", "wukong")
    dbt_project.prepare_dbt_manifest_if_dev()
    assert prepared == [] and not manifest.with_name("manifest_settings.json").exists()
    monkeypatch.delenv("CRM_SOURCE_SYSTEM")
    # a manifest without a record was parsed for the contract: nothing to do while the setting says contract
    assert dbt_project.prepare_dbt_manifest_if_stale() is False
    monkeypatch.setenv("CRM_SOURCE_SYSTEM", "wukong")
    assert dbt_project.prepare_dbt_manifest_if_stale() is True
    assert json.loads(manifest.with_name("manifest_settings.json").read_text()) == {"source_system": "wukong"}
    assert dbt_project.prepare_dbt_manifest_if_stale() is False
    monkeypatch.setenv("CRM_SOURCE_SYSTEM", "contract")
    assert dbt_project.prepare_dbt_manifest_if_stale() is True
    assert prepared == ["wukong", "contract"]


def check_wukong(url: str) -> None:
    check_source(url, SourceRetries(0), as_of=None, system="wukong")


def test_a_wukong_database_missing_a_table_or_columns_stops_the_run_naming_them(tmp_path):
    url = create_wukong_database(
        tmp_path / "wukong.sqlite",
        leave_out={"wk_crm_contract": ("check_status", "order_date"), "wk_crm_receivables_plan": None},
    )
    with pytest.raises(SourceCheckError) as stopped:
        check_wukong(url)
    message = str(stopped.value)
    assert "CRM_SOURCE_SYSTEM=wukong" in message and "悟空CRM" in message
    assert "table 'wk_crm_contract' lacks column(s) check_status, order_date" in message
    assert "table 'wk_crm_receivables_plan' is missing" in message
    assert "Nothing was extracted" in message


def test_a_complete_wukong_database_passes_the_check_and_dates_the_crm_by_its_first_opportunity(tmp_path):
    url = create_wukong_database(tmp_path / "wukong.sqlite")
    check_wukong(url)
    with pytest.raises(SourceCheckError, match="before the CRM's first opportunity \\(2026-06-01\\)"):
        check_source(url, SourceRetries(0), as_of=datetime(2026, 5, 1).date(), system="wukong")


def test_crm_warehouse_stops_before_extracting_from_an_incomplete_wukong_database(monkeypatch, capsys, tmp_path):
    url = create_wukong_database(tmp_path / "wukong.sqlite", leave_out={"wk_crm_business": ("is_end",)})
    monkeypatch.setenv("CRM_SOURCE_SYSTEM", "wukong")
    monkeypatch.setenv("CRM_SOURCE_URL", url)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "table 'wk_crm_business' lacks column(s) is_end" in err
    assert not Path(tmp_path / "data" / "warehouse.duckdb").exists()  # nothing was extracted
