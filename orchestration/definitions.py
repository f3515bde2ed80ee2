"""The one Dagster Definitions object: `dagster dev -m orchestration.definitions` loads it."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dashboard.asset import published_dashboard
from orchestration.extract import landing_assets, raw_tables
from orchestration.publish import published_warehouse
from orchestration.quality.checks import QualityResource, gate_1_checks, gate_2_checks
from orchestration.resources import CrmSourceResource, WarehouseResource
from orchestration.schedules import build_daily_schedule, crm_elt
from orchestration.settings import Settings
from orchestration.dbt_project import crm_dbt_project
from orchestration.transform import crm_dbt_models, dbt_executable


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything bound to one set of settings (tests build their own, on their own files)."""
    return dg.Definitions(
        assets=[*landing_assets, raw_tables, crm_dbt_models, published_warehouse, published_dashboard],
        asset_checks=[*gate_1_checks, *gate_2_checks],
        jobs=[crm_elt],
        schedules=[build_daily_schedule(settings)],
        resources={
            "crm_source": CrmSourceResource(url=settings.source_url),
            "warehouse": WarehouseResource(
                path=str(settings.warehouse_path),
                published_path=str(settings.published_path),
                published_storage_version=settings.published_storage_version,
                memory_limit=settings.duckdb_memory_limit,
                threads=settings.duckdb_threads,
            ),
            "dbt": DbtCliResource(project_dir=crm_dbt_project, dbt_executable=dbt_executable()),
            "quality": QualityResource(
                docs_dir=str(settings.quality_docs_dir),
                docs_keep_days=settings.quality_docs_keep_days,
                gates_path=str(settings.quality_gates_path),
                as_of_date=settings.as_of_date.isoformat() if settings.as_of_date else "",
                reporting_currency=settings.reporting_currency,
            ),
        },
        # Every step writes the same DuckDB file, which allows one writer: steps run one after another.
        executor=dg.in_process_executor,
    )


settings = Settings.from_environment()
settings.export_to_environment()
defs = build_definitions(settings)
