"""Extract: land each CRM table's delta (`landing/<table>`), then merge the batches into `raw/<table>`.

Gate 1 (orchestration/quality/checks.py) checks the landed batches; its blocking checks sit between the two
steps, so a bad batch never reaches raw and never moves a watermark. In a file-drop run (orchestration/
file_drops.py) a table's batch is read from its dropped file instead of the CRM database, and goes the same way.
The merge caps each watermark at the end of the as-of date gate 1 judges by (or at the extract's clock) and
names the rows dated beyond it (orchestration/watermark_cap.py).

The tables are the chosen source system's (CRM_SOURCE_SYSTEM, orchestration/source_system.py), each raw table
named as the source table: the contract's, or 悟空CRM's `wk_` tables or Salesforce's synced objects, plus the
contract's file-drop-only tables. An optional table the source lacks (a Salesforce object the sync does not hold)
lands empty, and its landing step says so once, in its log and its metadata (`note`).
"""

import dagster as dg

from crm_contract import SourceTable
from orchestration.crash_points import crash_point
from orchestration.file_drops import drop_files_of
from orchestration.file_reader import NothingDropped
from orchestration.names import FULL_REFRESH_TAG, WAREHOUSE_POOL
from orchestration.quality.resource import QualityResource
from orchestration.raw_schema import LANDING_SCHEMA, RAW_SCHEMA
from orchestration.resources import CrmSourceResource, FileDropResource, WarehouseResource
from orchestration.source_reader import BatchReader, SourceContractError
from orchestration.source_system import CONTRACT, SourceSystem, source_system


def is_full_refresh(context: dg.AssetExecutionContext) -> bool:
    return context.run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"


def landing_key(table_name: str) -> dg.AssetKey:
    return dg.AssetKey([LANDING_SCHEMA, table_name])


def raw_key(table_name: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SCHEMA, table_name])


def _what_is_read(table: SourceTable, system: SourceSystem) -> str:
    if not system.reads_database(table):
        return "the rows of a file dropped in CRM_LANDING_DIR (none without one: no CRM database holds it)"
    if not table.watermark:
        return "every row (the table has no time to read a delta by: a full refresh each run)"
    return f"rows with {' / '.join(table.watermark)} at or after the watermark"


def build_landing_asset(table: SourceTable, system: SourceSystem | None = None) -> dg.AssetsDefinition:
    system = system or source_system(CONTRACT)
    from_database = system.reads_database(table)

    @dg.asset(
        key=landing_key(table.name),
        group_name=LANDING_SCHEMA,
        kinds={"duckdb"},
        description=f"This run's batch of {system.label} table `{table.name}`: {_what_is_read(table, system)}, "
        "typed, one per key. Raw is not touched until gate 1 passes.",
        metadata={"primary_key": list(table.primary_key)},
        pool=WAREHOUSE_POOL,
    )
    def landed_batch(
        context: dg.AssetExecutionContext,
        crm_source: CrmSourceResource,
        warehouse: WarehouseResource,
        file_drops: FileDropResource,
    ) -> dg.MaterializeResult:
        drop = drop_files_of(context.run.tags).get(table.name)
        try:
            reader: BatchReader = (
                file_drops.reader(drop)
                if drop
                else crm_source.reader(on_retry=context.log.warning)
                if from_database
                else NothingDropped()
            )
            result = warehouse.raw_loader().land_table(
                reader,
                table,
                load_id=context.run.run_id,
                full_refresh=is_full_refresh(context),
                lookback=crm_source.lookback(),
            )
        except SourceContractError as error:
            if drop is None:
                raise
            rejected = file_drops.reject(drop, table.name, str(error), run_id=context.run.run_id)
            where = f"moved to {rejected}" if rejected else "not in the landing folder"
            raise SourceContractError(f"dropped file {drop['file']} rejected ({where}): {error}") from error
        crash_point("landing")
        source = f"file {drop['file']}" if drop else "the CRM database" if from_database else "no file dropped"
        context.log.info(
            f"{table.name}: read {result.rows_read} rows from {source} ({result.mode}) in {result.seconds}s"
        )
        metadata = result.as_metadata()
        if (absent := reader.absence_note(table)) is not None:  # an optional Salesforce object the sync lacks
            context.log.info(f"{table.name}: {absent}")
            metadata["note"] = absent
        if result.raw_columns_added:
            added = (
                f"raw.{table.name} lacked declared column(s) {', '.join(result.raw_columns_added)} (declared since its "
                "first load: a setting such as CRM_SALESFORCE_LOSS_REASON_FIELD, or a new release): added, and the "
                "table read whole this run so that every row has them"
            )
            context.log.warning(f"{table.name}: {added}")
            metadata["note"] = "; ".join(filter(None, [metadata.get("note"), added]))
        if result.extra_source_columns:
            context.log.warning(
                f"{table.name}: source has columns outside the contract, not loaded: {result.extra_source_columns}"
            )
        return dg.MaterializeResult(metadata=metadata)

    return landed_batch


def build_raw_tables(system: SourceSystem, *, source_timezone: str | None = None) -> dg.AssetsDefinition:
    """The raw tables of `system`, merged in one step (one transaction, so watermarks move together).

    source_timezone: the zone of the source's timestamps when they are local (悟空CRM: CRM_SOURCE_TIMEZONE), where
    the watermarks' cap is compared; None for a source writing UTC (Settings.source_times_timezone).
    """

    @dg.multi_asset(
        name="raw_tables",
        specs=[
            dg.AssetSpec(
                raw_key(table.name),
                deps=[landing_key(table.name)],
                group_name=RAW_SCHEMA,
                kinds={"duckdb"},
                description=f"{system.label} table `{table.name}` as of the last load, merged on "
                f"{', '.join(table.primary_key)}; soft deletes kept as the CRM marks them. Every row carries "
                "_load_id and _loaded_at.",
                skippable=True,
            )
            for table in system.tables
        ],
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def raw_tables(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        file_drops: FileDropResource,
        quality: QualityResource,
    ):
        yield from merge_into_raw(
            context,
            [system.table(key.path[-1]) for key in context.selected_asset_keys],
            warehouse=warehouse,
            file_drops=file_drops,
            quality=quality,
            source_timezone=source_timezone,
        )

    return raw_tables


def build_extract_assets(system: SourceSystem, *, source_timezone: str | None = None) -> list[dg.AssetsDefinition]:
    """A landing asset per table of `system`, and the step that merges them into raw (build_raw_tables)."""
    return [
        *(build_landing_asset(table, system) for table in system.tables),
        build_raw_tables(system, source_timezone=source_timezone),
    ]


def merge_into_raw(
    context: dg.AssetExecutionContext,
    tables: list[SourceTable],
    *,
    warehouse: WarehouseResource,
    file_drops: FileDropResource,
    quality: QualityResource,
    source_timezone: str | None,
):
    """Merge every landed batch and advance the watermarks in one transaction; then archive merged files.

    No watermark passes the end of the as-of date gate 1 judges by: the same date, from the same resource,
    compared in the source's own clock (`source_timezone`: 悟空CRM's local time; None: UTC).
    """
    results = warehouse.raw_loader().merge_landed(
        tables, as_of_end=quality.as_of_end(), source_timezone=source_timezone
    )
    crash_point("raw_merged")
    if note := warehouse.for_target().after_merge([result.table for result in results]):
        context.log.info(note)
    drops = drop_files_of(context.run.tags)
    for result in results:
        context.log.info(
            f"{result.table}: inserted {result.rows_inserted}, updated {result.rows_updated}, "
            f"watermark {result.watermark_before} → {result.watermark_after}"
        )
        if result.rows_beyond_watermark_cap is not None:
            context.log.warning(result.rows_beyond_watermark_cap.warning(result.table))
        metadata = result.as_metadata()
        if result.mode == "file" and result.table in drops:
            archived = file_drops.archive_loaded(
                drops[result.table],
                result.table,
                run_id=context.run.run_id,
                rows=result.rows_inserted + result.rows_updated,
            )
            context.log.info(f"{result.table}: file {drops[result.table]['file']} loaded, archived as {archived}")
            metadata["archived_file"] = str(archived) if archived else "not in the landing folder any more"
        yield dg.MaterializeResult(asset_key=raw_key(result.table), metadata=metadata)
