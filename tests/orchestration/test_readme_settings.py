"""The settings tables of docs/settings.md (where the README points) against the code: every variable listed
changes what the pipeline does, every variable settings.py reads is listed, and dbt reads exactly what Settings exports, with fallbacks equal to its
defaults (for dbt run by hand from dbt_project/)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings, SettingsError
from orchestration.warehouses.postgres import PostgresWarehouse

SETTINGS_DOC = PROJECT_ROOT / "docs" / "settings.md"  # the README points there
SETTINGS_TABLE_HEADER = "| variable | default | meaning |"

# A value other than the default for every variable docs/settings.md lists, and what it needs beside it to matter.
SAMPLES: dict[str, tuple[str, dict[str, str]]] = {
    "CRM_DATA_DIR": ("/elsewhere", {}),
    "CRM_SOURCE_URL": ("postgresql://crm@crm-db/crm", {}),
    "CRM_SOURCE_SYSTEM": ("wukong", {}),
    "CRM_SOURCE_CURRENCY": ("HKD", {}),
    "CRM_SOURCE_TIMEZONE": ("Asia/Hong_Kong", {}),
    "CRM_WUKONG_STAGE_GROUP": ("默认商机组", {}),
    "CRM_WUKONG_REGION_FIELD": ("大区", {}),
    "CRM_SALESFORCE_LOSS_REASON_FIELD": ("loss_reason_c", {}),
    "CRM_WAREHOUSE_PATH": ("/elsewhere/warehouse.duckdb", {}),
    "CRM_PUBLISHED_PATH": ("/elsewhere/published/crm.duckdb", {}),
    "CRM_PUBLISHED_STORAGE_VERSION": ("v1.2.0", {}),
    "CRM_PUBLISHED_FILE_MODE": ("0600", {}),
    "CRM_AS_OF_DATE": ("2026-06-30", {}),
    "CRM_ALLOW_FUTURE_AS_OF": ("1", {"CRM_AS_OF_DATE": "2999-01-01"}),
    "CRM_REPORTING_CURRENCY": ("CNY", {}),
    "CRM_REPORTING_TIMEZONE": ("Asia/Shanghai", {}),
    "CRM_FISCAL_YEAR_START_MONTH": ("2", {}),
    "DAGSTER_HOME": ("/elsewhere/dagster_home", {}),
    "CRM_EXTRACT_LOOKBACK_HOURS": ("2", {}),
    "CRM_DUCKDB_MEMORY_LIMIT": ("1GB", {}),
    "CRM_DUCKDB_THREADS": ("1", {}),
    "CRM_DBT_THREADS": ("8", {}),
    "CRM_SCHEDULE_CRON": ("30 5 * * *", {}),
    "CRM_SCHEDULE_TIMEZONE": ("Asia/Shanghai", {}),
    "CRM_QUALITY_GATES": ("<a copy of expectations/gates.yml>", {}),
    "CRM_QUALITY_DOCS_DIR": ("/elsewhere/quality_docs", {}),
    "CRM_QUALITY_DOCS_KEEP_DAYS": ("3", {}),
    "CRM_DBT_ARTIFACTS_KEEP_DAYS": ("2", {}),
    "CRM_LANDING_DIR": ("/elsewhere/landing", {}),
    "CRM_ALERTS_LOG": ("/elsewhere/alerts.jsonl", {}),
    "CRM_ALERT_WEBHOOK_URL": ("http://127.0.0.1:9/hook", {}),
    "CRM_FRESHNESS_HOURS": ("48", {}),
    "CRM_SOURCE_RETRIES": ("1", {}),
    "CRM_SOURCE_RETRY_SECONDS": ("0.5", {}),
    "CRM_WAREHOUSE_TARGET": ("postgres", {}),
    "CRM_PG_HOST": ("pg.internal", {}),
    "CRM_PG_PORT": ("6543", {}),
    "CRM_PG_DBNAME": ("warehouse", {}),
    "CRM_PG_USER": ("loader", {}),
    "CRM_PG_PASSWORD": ("s3cret", {}),
    "CRM_READER_ROLE": ("bi_reader", {}),
    "CRM_SPARK_DIR": ("/elsewhere/spark", {}),
    "CRM_SPARK_MASTER": ("local[4]", {}),
    "CRM_SPARK_DRIVER_MEMORY": ("2g", {}),
    "CRM_RAW_PARQUET_DIR": ("/elsewhere/raw_parquet", {}),
}


def readme_variables() -> list[str]:
    """The variables named in the first column of docs/settings.md's tables."""
    names, in_table = [], False
    for line in SETTINGS_DOC.read_text().splitlines():
        if line.startswith(SETTINGS_TABLE_HEADER):
            in_table = True
        elif in_table and line.startswith("|"):
            names += re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
        else:
            in_table = False
    return names


def what_the_pipeline_sees(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> object:
    """Everything a setting can change: the Definitions' resources, schedule and freshness policy, the variables
    exported to dbt and Dagster's instance, the Postgres URL (its password is read when a connection opens) and
    DAGSTER_HOME as `crm-warehouse` creates it; or the refusal."""
    for name in [name for name in os.environ if name.startswith("CRM_") or name == "DAGSTER_HOME"]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        return f"refused: {error}"
    definitions = build_definitions(settings)
    schedule = definitions.resolve_schedule_def("crm_elt_daily")
    before = dict(os.environ)
    settings.export_to_environment()
    exported = {name: value for name, value in os.environ.items() if before.get(name) != value}
    os.environ.clear()
    os.environ.update(before)
    return {
        "resources": {name: resource.model_dump() for name, resource in definitions.resources.items()},
        "postgres_url": PostgresWarehouse(definitions.resources["warehouse"]).url(),
        "schedule": (schedule.cron_schedule, schedule.execution_timezone),
        "freshness": definitions.resolve_asset_graph()
        .get(dg.AssetKey(["published", "crm_warehouse"]))
        .freshness_policy,
        "exported": exported,
        "dagster_home": settings.dagster_home,
    }


@pytest.mark.parametrize("variable", readme_variables())
def test_every_variable_the_readme_lists_changes_what_the_pipeline_does(variable, monkeypatch, tmp_path):
    assert variable in SAMPLES, f"{variable} is in docs/settings.md: give it a sample value here"
    value, beside = SAMPLES[variable]
    if variable == "CRM_QUALITY_GATES":
        value = str(shutil.copy(PROJECT_ROOT / "expectations" / "gates.yml", tmp_path / "gates.yml"))
    default = what_the_pipeline_sees(monkeypatch, beside)
    changed = what_the_pipeline_sees(monkeypatch, {**beside, variable: value})
    assert changed != default, f"{variable}={value!r} changes nothing: it is read nowhere, or not passed on"


def test_every_variable_settings_reads_is_in_the_readme():
    read = set(re.findall(r'env\.get\("([A-Z_]+)"\)', (PROJECT_ROOT / "orchestration" / "settings.py").read_text()))
    assert read - set(readme_variables()) == set()


def dbt_reads() -> dict[str, set[str | None]]:
    """Every env_var() in the dbt project: the variable and its fallbacks (None: no fallback)."""
    reads: dict[str, set[str | None]] = {}
    files = [
        DBT_PROJECT_DIR / "profiles.yml",
        DBT_PROJECT_DIR / "dbt_project.yml",
        *[
            path
            for folder in ("models", "macros", "snapshots", "seeds", "tests")
            for path in (DBT_PROJECT_DIR / folder).rglob("*")
            if path.suffix in (".yml", ".sql")
        ],
    ]
    for path in files:
        for call in re.finditer(r"env_var\(\s*'(\w+)'\s*(,\s*'([^']*)')?\s*\)", path.read_text()):
            reads.setdefault(call[1], set()).add(call[3] if call[2] else None)
    return reads


def test_dbt_reads_what_settings_exports_and_its_fallbacks_are_the_settings_defaults():
    reads = dbt_reads()
    secret = {"CRM_PG_PASSWORD"}  # read where a connection opens, never exported
    every_export = Settings.from_environment({"CRM_WAREHOUSE_TARGET": "spark", "CRM_AS_OF_DATE": "2026-06-30"})
    assert set(reads) - secret == set(every_export.dbt_environment())
    defaults = Settings.from_environment({}).dbt_environment()
    for name, fallbacks in reads.items():
        if name in secret:
            continue
        (fallback,) = fallbacks
        expected = defaults.get(name, "")  # not exported by default: empty (as-of today; no raw Parquet off Spark)
        same_path = fallback.startswith("..") and (DBT_PROJECT_DIR / fallback).resolve() == Path(expected)
        assert fallback == expected or same_path, f"{name}: dbt falls back to {fallback!r}, settings to {expected!r}"
