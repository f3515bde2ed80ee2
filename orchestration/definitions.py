"""The one Dagster Definitions object: `dagster dev -m orchestration.definitions` loads it."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.extract import landing_assets, raw_tables
from orchestration.publish import published_warehouse
from orchestration.resources import CrmSourceResource, WarehouseResource
from orchestration.schedules import build_daily_schedule, crm_elt
from orchestration.settings import Settings
from orchestration.dbt_project import crm_dbt_project
from orchestration.transform import crm_dbt_models, dbt_executable

settings = Settings.from_environment()
settings.export_to_environment()

defs = dg.Definitions(
    assets=[*landing_assets, raw_tables, crm_dbt_models, published_warehouse],
    jobs=[crm_elt],
    schedules=[build_daily_schedule(settings)],
    resources={
        "crm_source": CrmSourceResource(url=settings.source_url),
        "warehouse": WarehouseResource(
            path=str(settings.warehouse_path),
            published_path=str(settings.published_path),
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
        ),
        "dbt": DbtCliResource(project_dir=crm_dbt_project, dbt_executable=dbt_executable()),
    },
    # Every step writes the same DuckDB file, which allows one writer: steps run one after another.
    executor=dg.in_process_executor,
)
