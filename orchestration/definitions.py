"""The one Dagster Definitions object: `dagster dev -m orchestration.definitions` loads it."""

from datetime import timedelta

import dagster as dg

from orchestration.dashboard.asset import DASHBOARD_KEY
from orchestration.dbt_project import crm_dbt_project, dbt_executable
from orchestration.extract import build_extract_assets
from orchestration.publish import PUBLISHED_KEY, build_published_assets
from orchestration.quality.checks import build_gate_1_checks, gate_2_checks
from orchestration.quality.resource import QualityResource
from orchestration.resources import AlertResource, CrmSourceResource, FileDropResource, WarehouseResource
from orchestration.schedules import build_daily_schedule, build_weekly_full_refresh_schedule, crm_elt
from orchestration.sensors import build_failure_alert_sensor, build_file_drop_sensor
from orchestration.settings import Settings
from orchestration.source_system import SALESFORCE, WUKONG, source_system
from orchestration.transform import CrmDbtCliResource, crm_dbt_models, published_model_keys
from orchestration.warehouses import warehouse_class


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything bound to one set of settings (tests build their own, on their own files)."""
    # The static dashboard draws from the published DuckDB file, and file drops load into the DuckDB file's raw
    # (also Spark's raw store): on Postgres, BI tools read the `marts` schema and exports go through the CRM database.
    with_duckdb_file = warehouse_class(settings.warehouse_target).has_duckdb_file
    as_of_date = settings.as_of_date.isoformat() if settings.as_of_date else ""  # empty: today
    published = build_published_assets(with_dashboard=with_duckdb_file)
    system = source_system(settings.source_system)  # the CRM read: its tables are the raw assets
    sensors = [build_failure_alert_sensor(crm_elt)]
    if with_duckdb_file:
        sensors.append(build_file_drop_sensor(crm_elt, downstream=[*crm_dbt_models.keys, PUBLISHED_KEY, DASHBOARD_KEY]))
    return dg.Definitions(
        assets=[
            *build_extract_assets(system, source_timezone=settings.source_times_timezone),
            *with_freshness_policy([crm_dbt_models, published], hours=settings.freshness_hours),
        ],
        asset_checks=[*build_gate_1_checks(system.tables), *gate_2_checks],
        jobs=[crm_elt],
        schedules=[build_daily_schedule(settings), build_weekly_full_refresh_schedule(settings)],
        sensors=sensors,
        resources={
            "crm_source": CrmSourceResource(
                url=settings.source_url,
                retries=settings.source_retries,
                retry_seconds=settings.source_retry_seconds,
                lookback_hours=settings.extract_lookback_hours,
                as_of_date=as_of_date,
                system=settings.source_system,
            ),
            "file_drops": FileDropResource(
                landing_dir=str(settings.landing_dir),
                ledger_path=str(settings.data_dir / "file_ledger.sqlite"),
                source_system=settings.source_system,
            ),
            "alerts": AlertResource(log_path=str(settings.alerts_log_path), webhook_url=settings.alert_webhook_url),
            "warehouse": WarehouseResource(
                target=settings.warehouse_target,
                path=str(settings.warehouse_path),
                published_path=str(settings.published_path),
                published_storage_version=settings.published_storage_version,
                published_file_mode=settings.published_file_mode,
                memory_limit=settings.duckdb_memory_limit,
                threads=settings.duckdb_threads,
                marts_schema=settings.marts_build_schema,
                pg_host=settings.postgres.host,
                pg_port=settings.postgres.port,
                pg_dbname=settings.postgres.dbname,
                pg_user=settings.postgres.user,
                reader_role=settings.postgres.reader_role,
                spark_dir=str(settings.spark_dir),
                raw_parquet_dir=str(settings.raw_parquet_dir),
            ),
            "dbt": CrmDbtCliResource(
                project_dir=crm_dbt_project,
                dbt_executable=dbt_executable(),
                target=settings.warehouse_target,
                artifacts_keep_days=settings.dbt_artifacts_keep_days,
            ),
            "quality": QualityResource(
                docs_dir=str(settings.quality_docs_dir),
                docs_keep_days=settings.quality_docs_keep_days,
                gates_path=str(settings.quality_gates_path),
                freshness_hours=settings.freshness_hours,
                as_of_date=as_of_date,
                reporting_currency=settings.reporting_currency,
                source_timezone=settings.source_times_timezone or "",
                # 悟空CRM's amounts are all in CRM_SOURCE_CURRENCY, whose rates only a file drop brings; so are a
                # single-currency Salesforce org's (gate 1 knows one by its empty currency_type). The contract's rows
                # name their currencies.
                source_currency=settings.source_currency if settings.source_system in (WUKONG, SALESFORCE) else "",
            ),
        },
        # Every step writes the same warehouse, and DuckDB allows one writer: steps run one after another.
        executor=dg.in_process_executor,
    )


def with_freshness_policy(assets: list[dg.AssetsDefinition], *, hours: int) -> list[dg.AssetsDefinition]:
    """Published marts (and the published file) not rebuilt for `hours` (CRM_FRESHNESS_HOURS) show as failing
    their freshness policy in the UI, and as warning after half of it.

    Dagster's daemon evaluates the policy (`freshness: enabled` in dagster.yaml, on by default).
    """
    policy = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=hours), warn_window=timedelta(hours=hours / 2))
    published = {*published_model_keys(), PUBLISHED_KEY}
    return dg.map_asset_specs(
        lambda spec: dg.apply_freshness_policy(spec, policy) if spec.key in published else spec, assets
    )


settings = Settings.from_environment()
settings.export_to_environment()
settings.create_warehouse_folder()
defs = build_definitions(settings)
