"""Extract: one Dagster asset per CRM source table, merged incrementally into the warehouse's raw schema."""

from datetime import timedelta

import dagster as dg

from crm_contract import SOURCE_TABLES, SourceTable
from orchestration.incremental_load import load_table
from orchestration.raw_schema import RAW_SCHEMA
from orchestration.resources import CrmSourceResource, WarehouseResource

# Run tag that turns every extract (and the dbt build) into a full refresh.
FULL_REFRESH_TAG = "crm/full_refresh"
RAW_GROUP = "raw"
# Every asset that writes the DuckDB warehouse shares this pool (limit 1 in deploy/dagster.yaml).
WAREHOUSE_POOL = "crm_warehouse"


class ExtractConfig(dg.Config):
    """Re-read rows updated up to this many hours before the watermark (late-arriving updates)."""

    lookback_hours: int = 24


def is_full_refresh(context: dg.AssetExecutionContext) -> bool:
    return context.run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"


def build_raw_asset(table: SourceTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([RAW_SCHEMA, table.name]),
        group_name=RAW_GROUP,
        kinds={"duckdb"},
        description=f"CRM table `{table.name}` (domain.md §1), merged on {', '.join(table.primary_key)} "
        "by an updated_at high-watermark. Every row carries _load_id and _loaded_at.",
        metadata={"primary_key": list(table.primary_key)},
        pool=WAREHOUSE_POOL,
    )
    def raw_table(
        context: dg.AssetExecutionContext,
        config: ExtractConfig,
        crm_source: CrmSourceResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            result = load_table(
                con,
                crm_source.reader(),
                table,
                load_id=context.run.run_id,
                full_refresh=is_full_refresh(context),
                lookback=timedelta(hours=config.lookback_hours),
            )
        context.log.info(
            f"{table.name}: read {result.rows_read}, inserted {result.rows_inserted}, "
            f"updated {result.rows_updated} ({result.mode}) in {result.seconds}s"
        )
        if result.extra_source_columns:
            context.log.warning(
                f"{table.name}: source has columns outside the contract, not loaded: {result.extra_source_columns}"
            )
        return dg.MaterializeResult(metadata=result.as_metadata())

    return raw_table


raw_assets: list[dg.AssetsDefinition] = [build_raw_asset(table) for table in SOURCE_TABLES]
