"""Every environment variable the pipeline reads, in one place, typed, with defaults (domain.md §4).

Paths are resolved to absolute paths and written back to the environment, because dbt runs as a
subprocess and resolves relative paths against its own working directory, not ours.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestration.source_system import SOURCE_SYSTEMS, WUKONG
from orchestration.source_url import SourceUrlError, parse_source_url
from orchestration.transient_errors import SourceRetries
from orchestration.warehouses import DEFAULT_WAREHOUSE_TARGET, WAREHOUSE_TARGETS, warehouse_class

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The published file's on-disk format: DuckDB 1.0 and every later 1.x release (the readers BI drivers embed)
# open it. The newest format (DuckDB 2.0's) is unreadable by them. v1.0.0 holds every type the marts use.
DEFAULT_STORAGE_VERSION = "v1.0.0"
# DuckDB's memory limit per connection (extract, dbt, publish). The limit bounds DuckDB's buffers, not the Python
# processes around it: the whole process tree peaks somewhat above it during dbt, and 3GB keeps a run at 1M
# opportunities under 4 GB where 4GB did not (docs/benchmarks.md has the figures).
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"
# Below this DuckDB cannot work: at 32MB an aggregate of 2M rows failed for want of memory, at 64MB it ran.
MIN_DUCKDB_MEMORY_BYTES = 64 * 1000**2
# DuckDB's units for memory_limit (it accepts no percentage).
_MEMORY_UNITS = {
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
# Who may read the published copies (file, Parquet, dashboard): the pipeline's account and its group, where
# analysts and BI tools on the same machine are put; not every local account (it names reps and every figure).
DEFAULT_PUBLISHED_FILE_MODE = 0o640


# Retries of a transient source error: SourceRetries' own defaults, which a reader built outside a run uses too.
_SOURCE_RETRIES = SourceRetries()


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    source_url: str
    source_system: str
    source_currency: str
    source_timezone: str
    wukong_stage_group: str
    wukong_region_field: str
    salesforce_loss_reason_field: str
    warehouse_target: str
    warehouse_path: Path
    published_path: Path
    published_storage_version: str
    published_file_mode: int
    as_of_date: date | None
    allow_future_as_of: bool
    reporting_currency: str
    reporting_timezone: str
    fiscal_year_start_month: int
    dagster_home: Path
    extract_lookback_hours: int
    duckdb_memory_limit: str
    duckdb_threads: int
    dbt_threads: int
    schedule_cron: str
    schedule_timezone: str
    quality_docs_dir: Path
    quality_docs_keep_days: int
    dbt_artifacts_keep_days: int
    quality_gates_path: Path
    landing_dir: Path
    alerts_log_path: Path
    alert_webhook_url: str | None
    freshness_hours: int
    source_retries: int
    source_retry_seconds: float
    postgres: PostgresSettings
    spark_dir: Path
    spark_master: str
    spark_driver_memory: str
    raw_parquet_dir: Path

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = _path(env.get("CRM_DATA_DIR"), PROJECT_ROOT / "data")
        reporting_timezone = _timezone(env.get("CRM_REPORTING_TIMEZONE") or "UTC", "CRM_REPORTING_TIMEZONE")
        allow_future_as_of = _flag("CRM_ALLOW_FUTURE_AS_OF", env.get("CRM_ALLOW_FUTURE_AS_OF"))
        freshness_hours = _positive_int("CRM_FRESHNESS_HOURS", env.get("CRM_FRESHNESS_HOURS"), 26)
        return cls(
            data_dir=data_dir,
            source_url=_source_url(env.get("CRM_SOURCE_URL") or f"sqlite:///{data_dir / 'crm.sqlite'}"),
            source_system=_source_system(env.get("CRM_SOURCE_SYSTEM") or "contract"),
            source_currency=_currency("CRM_SOURCE_CURRENCY", env.get("CRM_SOURCE_CURRENCY") or "CNY"),
            source_timezone=_timezone(env.get("CRM_SOURCE_TIMEZONE") or "Asia/Shanghai", "CRM_SOURCE_TIMEZONE"),
            wukong_stage_group=_sql_text("CRM_WUKONG_STAGE_GROUP", env.get("CRM_WUKONG_STAGE_GROUP") or ""),
            wukong_region_field=_sql_text("CRM_WUKONG_REGION_FIELD", env.get("CRM_WUKONG_REGION_FIELD") or "region"),
            salesforce_loss_reason_field=_column_name(
                "CRM_SALESFORCE_LOSS_REASON_FIELD", env.get("CRM_SALESFORCE_LOSS_REASON_FIELD") or ""
            ),
            warehouse_target=_warehouse_target(env.get("CRM_WAREHOUSE_TARGET") or DEFAULT_WAREHOUSE_TARGET),
            warehouse_path=_path(env.get("CRM_WAREHOUSE_PATH"), data_dir / "warehouse.duckdb"),
            published_path=_path(env.get("CRM_PUBLISHED_PATH"), data_dir / "published" / "crm.duckdb"),
            published_storage_version=_storage_version(
                env.get("CRM_PUBLISHED_STORAGE_VERSION") or DEFAULT_STORAGE_VERSION
            ),
            published_file_mode=_published_file_mode(env.get("CRM_PUBLISHED_FILE_MODE")),
            as_of_date=_as_of_date(env.get("CRM_AS_OF_DATE"), reporting_timezone, allow_future=allow_future_as_of),
            allow_future_as_of=allow_future_as_of,
            reporting_currency=_currency("CRM_REPORTING_CURRENCY", env.get("CRM_REPORTING_CURRENCY") or "USD"),
            reporting_timezone=reporting_timezone,
            fiscal_year_start_month=_month_number(
                "CRM_FISCAL_YEAR_START_MONTH", env.get("CRM_FISCAL_YEAR_START_MONTH"), 1
            ),
            dagster_home=_path(env.get("DAGSTER_HOME"), data_dir / "dagster_home"),
            extract_lookback_hours=_non_negative_int(
                "CRM_EXTRACT_LOOKBACK_HOURS", env.get("CRM_EXTRACT_LOOKBACK_HOURS"), 24
            ),
            duckdb_memory_limit=_memory_limit(env.get("CRM_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT),
            duckdb_threads=_positive_int("CRM_DUCKDB_THREADS", env.get("CRM_DUCKDB_THREADS"), 2),
            dbt_threads=_positive_int("CRM_DBT_THREADS", env.get("CRM_DBT_THREADS"), 4),
            schedule_cron=env.get("CRM_SCHEDULE_CRON") or "0 6 * * *",
            schedule_timezone=_timezone(
                env.get("CRM_SCHEDULE_TIMEZONE") or reporting_timezone, "CRM_SCHEDULE_TIMEZONE"
            ),
            quality_docs_dir=_path(env.get("CRM_QUALITY_DOCS_DIR"), data_dir / "quality_docs"),
            quality_docs_keep_days=_non_negative_int(
                "CRM_QUALITY_DOCS_KEEP_DAYS", env.get("CRM_QUALITY_DOCS_KEEP_DAYS"), 30
            ),
            dbt_artifacts_keep_days=_non_negative_int(
                "CRM_DBT_ARTIFACTS_KEEP_DAYS", env.get("CRM_DBT_ARTIFACTS_KEEP_DAYS"), 7
            ),
            quality_gates_path=_gates_file(
                _path(env.get("CRM_QUALITY_GATES"), PROJECT_ROOT / "expectations" / "gates.yml"), freshness_hours
            ),
            landing_dir=_path(env.get("CRM_LANDING_DIR"), data_dir / "landing"),
            alerts_log_path=_path(env.get("CRM_ALERTS_LOG"), data_dir / "alerts.jsonl"),
            alert_webhook_url=env.get("CRM_ALERT_WEBHOOK_URL") or None,
            freshness_hours=freshness_hours,
            source_retries=_non_negative_int(
                "CRM_SOURCE_RETRIES", env.get("CRM_SOURCE_RETRIES"), _SOURCE_RETRIES.retries
            ),
            source_retry_seconds=_non_negative_float(
                "CRM_SOURCE_RETRY_SECONDS", env.get("CRM_SOURCE_RETRY_SECONDS"), _SOURCE_RETRIES.first_delay_seconds
            ),
            postgres=PostgresSettings(
                host=env.get("CRM_PG_HOST") or "127.0.0.1",
                port=_non_negative_int("CRM_PG_PORT", env.get("CRM_PG_PORT"), 5432),
                dbname=env.get("CRM_PG_DBNAME") or "crm_warehouse",
                user=env.get("CRM_PG_USER") or "crm_loader",
                reader_role=env.get("CRM_READER_ROLE") or "crm_reader",
            ),
            spark_dir=_path(env.get("CRM_SPARK_DIR"), data_dir / "spark"),
            spark_master=env.get("CRM_SPARK_MASTER") or "local[2]",
            spark_driver_memory=env.get("CRM_SPARK_DRIVER_MEMORY") or "1g",
            raw_parquet_dir=_path(env.get("CRM_RAW_PARQUET_DIR"), data_dir / "raw_parquet"),
        )

    def export_to_environment(self) -> None:
        """Make dbt (a subprocess) and Dagster's instance see exactly these resolved values."""
        os.environ.update(self.dbt_environment())
        os.environ.setdefault("DAGSTER_HOME", str(self.dagster_home))

    def dbt_environment(self) -> dict[str, str]:
        """Every variable dbt_project/ reads (profiles.yml, dbt_project.yml, the sources' YAML), as dbt must see it.

        The fallbacks written there are for dbt run by hand from dbt_project/ and equal these defaults (a test
        checks it). Left out: an unset as-of date (empty means today, here and in dbt), the raw Parquet folder
        except on Spark (where the on-run-start hook registers it), and CRM_PG_PASSWORD, read where a connection
        is opened so that it shows in no config.
        """
        environment = {
            "CRM_WAREHOUSE_TARGET": self.warehouse_target,
            "CRM_WAREHOUSE_PATH": str(self.warehouse_path),
            "CRM_REPORTING_CURRENCY": self.reporting_currency,
            "CRM_REPORTING_TIMEZONE": self.reporting_timezone,
            "CRM_FISCAL_YEAR_START_MONTH": str(self.fiscal_year_start_month),
            "CRM_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "CRM_DUCKDB_THREADS": str(self.duckdb_threads),
            "CRM_DBT_THREADS": str(self.dbt_threads),
            "CRM_FRESHNESS_HOURS": str(self.freshness_hours),
            "CRM_PG_HOST": self.postgres.host,
            "CRM_PG_PORT": str(self.postgres.port),
            "CRM_PG_DBNAME": self.postgres.dbname,
            "CRM_PG_USER": self.postgres.user,
            "CRM_READER_ROLE": self.postgres.reader_role,
            "CRM_SPARK_DIR": str(self.spark_dir),
            "CRM_SPARK_MASTER": self.spark_master,
            "CRM_SPARK_DRIVER_MEMORY": self.spark_driver_memory,
            "CRM_SOURCE_SYSTEM": self.source_system,
            "CRM_SOURCE_CURRENCY": self.source_currency,
            "CRM_SOURCE_TIMEZONE": self.source_timezone,
            "CRM_WUKONG_STAGE_GROUP": self.wukong_stage_group,
            "CRM_WUKONG_REGION_FIELD": self.wukong_region_field,
            "CRM_SALESFORCE_LOSS_REASON_FIELD": self.salesforce_loss_reason_field,
        }
        if self.as_of_date is not None:
            environment["CRM_AS_OF_DATE"] = self.as_of_date.isoformat()
        if self.warehouse_class.dbt_reads_raw_parquet:
            environment["CRM_RAW_PARQUET_DIR"] = str(self.raw_parquet_dir)
        return environment

    @property
    def source_times_timezone(self) -> str | None:
        """The zone of the source's own timestamps when they are local (悟空CRM: CRM_SOURCE_TIMEZONE); None when
        they are UTC (the contract; Salesforce, whose sync writes UTC). The extract compares the watermark's cap in it
        (orchestration/watermark_cap.py)."""
        return self.source_timezone if self.source_system == WUKONG else None

    def create_warehouse_folder(self) -> None:
        """DuckDB creates the warehouse file but not its folder; the published file's folder is made by publish."""
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def marts_build_schema(self) -> str:
        """Where gate 2 and publish find the published models dbt built: `marts` itself in a DuckDB file (publish
        copies them to another file); a schema renamed to `marts` on publish on Postgres; on Spark, views in the
        DuckDB file over the Parquet files of Spark's `marts` tables (orchestration/warehouses/spark.py)."""
        return self.warehouse_class.build_schema

    @property
    def warehouse_class(self) -> Any:
        """The class of the target's Warehouse (orchestration/warehouses/)."""
        return warehouse_class(self.warehouse_target)


@dataclass(frozen=True)
class PostgresSettings:
    """The Postgres warehouse (CRM_PG_*), as dbt_project/profiles.yml reads it. The password is never a setting:
    it is read from CRM_PG_PASSWORD when a connection is opened, so it shows in no config and no log."""

    host: str
    port: int
    dbname: str
    user: str
    reader_role: str


def _path(value: str | None, default: Path) -> Path:
    """Absolute and normalised, links kept: the published file is a link that moves to each new version."""
    return Path(os.path.abspath(Path(value).expanduser())) if value else default


def _source_url(value: str) -> str:
    try:
        return parse_source_url(value).render_as_string(hide_password=False)
    except SourceUrlError as error:
        raise SettingsError(str(error)) from None


def _gates_file(path: Path, freshness_hours: int) -> Path:
    """The gates file, read now: a malformed one is refused before any run, not inside gate 1."""
    from orchestration.quality.gate_config import GateConfigError, read_gate_config  # it reads PROJECT_ROOT from here

    if not path.is_file():
        raise SettingsError(
            f"CRM_QUALITY_GATES={path} is not a file: point it at a gates file such as expectations/gates.yml"
        )
    try:
        read_gate_config(path, freshness_hours=freshness_hours)
    except GateConfigError as error:
        raise SettingsError(f"CRM_QUALITY_GATES={error}") from None  # the error starts with the path
    return path


def _as_of_date(value: str | None, timezone: str, *, allow_future: bool) -> date | None:
    if not value:
        return None
    try:
        as_of = date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"CRM_AS_OF_DATE={value!r} is not a date: use YYYY-MM-DD, or unset it for today") from None
    today = datetime.now(ZoneInfo(timezone)).date()
    if as_of > today and not allow_future:
        raise SettingsError(
            f"CRM_AS_OF_DATE={value!r} is after today ({today} in {timezone}): the figures would be dated ahead of "
            "the data. Use a date up to today, unset it for today, or set CRM_ALLOW_FUTURE_AS_OF=1 if you mean it"
        )
    return as_of


def _memory_limit(value: str) -> str:
    """DuckDB's memory_limit, in the form DuckDB parses: a number and a unit (3GB, 512MB, 2.5GiB)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b)\s*", value, flags=re.IGNORECASE)
    if match is None:
        raise SettingsError(
            f"CRM_DUCKDB_MEMORY_LIMIT={value!r} is not a memory size: use a number and a unit "
            "(KB, MB, GB, TB or KiB, MiB, GiB, TiB), such as 3GB or 512MB"
        )
    if float(match[1]) * _MEMORY_UNITS[match[2].lower()] < MIN_DUCKDB_MEMORY_BYTES:
        raise SettingsError(f"CRM_DUCKDB_MEMORY_LIMIT={value!r} is too little for DuckDB to work: use at least 64MB")
    return value.strip()


def _storage_version(value: str) -> str:
    if not re.fullmatch(r"v\d+\.\d+\.\d+|latest", value):
        raise SettingsError(
            f"CRM_PUBLISHED_STORAGE_VERSION={value!r} is not a DuckDB release such as v1.0.0 (or latest)"
        )
    return value


def _published_file_mode(value: str | None) -> int:
    """The owner must read (the dashboard is drawn from the published file); nobody else may write (what analysts
    see could be altered), nobody execute (data, not programs)."""
    if not value:
        return DEFAULT_PUBLISHED_FILE_MODE
    if not re.fullmatch(r"0?[0-7]{3}", value) or not int(value, 8) & 0o400 or int(value, 8) & ~0o644:
        raise SettingsError(
            f"CRM_PUBLISHED_FILE_MODE={value!r} is not an allowed mode for the published files: "
            "octal, the owner reads, only the owner writes, nobody executes; such as 0640 (the "
            "default: the owner's group reads), 0600 (the owner only) or 0644 (every local account)"
        )
    return int(value, 8)


def _warehouse_target(value: str) -> str:
    if value not in WAREHOUSE_TARGETS:
        raise SettingsError(
            f"CRM_WAREHOUSE_TARGET={value!r} is not a warehouse target: use one of {', '.join(WAREHOUSE_TARGETS)}"
        )
    return value


def _source_system(value: str) -> str:
    if value not in SOURCE_SYSTEMS:
        raise SettingsError(
            f"CRM_SOURCE_SYSTEM={value!r} is not a CRM the pipeline reads: use one of {', '.join(SOURCE_SYSTEMS)} "
            "(contract: tables shaped as docs/domain.md §1; wukong: 悟空CRM 11's MySQL tables; salesforce: a Salesforce "
            "org as a sync tool such as Fivetran lands it; docs/sources.md)"
        )
    return value


def _currency(name: str, value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise SettingsError(f"{name}={value!r} is not an ISO 4217 code such as USD or CNY")
    return value


def _timezone(value: str, name: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{name}={value!r} is not an IANA time zone such as UTC or Asia/Shanghai") from None
    return value


def _sql_text(name: str, value: str) -> str:
    """A name dbt writes into SQL as a string literal (a stage group's or a custom field's name, as 悟空CRM shows
    it): quotes, backslashes and control characters would break out of the literal, and no such name has them."""
    if re.search(r"['\"\\\x00-\x1f]", value):
        raise SettingsError(
            f"{name}={value!r} has a quote, a backslash or a control character: give the name as 悟空CRM shows it"
        )
    return value


def _column_name(name: str, value: str) -> str:
    """A column dbt writes into SQL unquoted (a synced custom field such as loss_reason_c): only a plain lower-case
    identifier, as Fivetran names columns, so that nothing can break out of it. Empty: none."""
    if value and not re.fullmatch(r"[a-z_][a-z0-9_]*", value):
        raise SettingsError(
            f"{name}={value!r} is not a column name: give the synced column's name in lower case, letters, digits "
            "and underscores only (such as loss_reason_c), or leave it empty for none"
        )
    return value


def _non_negative_float(name: str, value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise SettingsError(f"{name}={value!r} must be a number of seconds ≥ 0")
    return number


def _non_negative_int(name: str, value: str | None, default: int) -> int:
    if not value:
        return default
    if not value.isdigit():
        raise SettingsError(f"{name}={value!r} must be a whole number ≥ 0")
    return int(value)


def _positive_int(name: str, value: str | None, default: int) -> int:
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name}={value!r} must be a whole number ≥ 1")
    return int(value)


def _month_number(name: str, value: str | None, default: int) -> int:
    """A calendar month, 1 (January) to 12: refused here rather than by dbt's compile, which names no fix."""
    if not value:
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= 12:
        raise SettingsError(f"{name}={value!r} must be a month number, 1 (January) to 12 (December)")
    return int(value)


def _flag(name: str, value: str | None) -> bool:
    if value not in (None, "", "0", "1"):
        raise SettingsError(f"{name}={value!r} must be 1 (yes) or 0 (no, the default)")
    return value == "1"
