"""Publish: the published models as a read-only file, Parquet files and the dashboard, swapped in as one version.

Analysts and BI tools open CRM_PUBLISHED_PATH, never the warehouse the pipeline writes: a reader then
never blocks a run (DuckDB allows one writer or many readers per file), and never sees a half-built mart,
because each publish writes a whole new version beside the old one and swaps it in with one rename
(orchestration/published_folder.py). A reader that has the old file open keeps reading the old data until it
reconnects.

The file is written in an older DuckDB storage format (CRM_PUBLISHED_STORAGE_VERSION, default v1.0.0) so
that the DuckDB 1.x readers embedded in BI drivers open it, and every model is also exported as one Parquet
file in `parquet/` beside it, for tools that read files; the dashboard is drawn from the new file into
`dashboard/` before the swap, so that it always shows the published numbers. Everything gets the mode
CRM_PUBLISHED_FILE_MODE sets (orchestration/file_modes.py).
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import published_folder
from orchestration.crash_points import crash_point
from orchestration.dashboard.asset import DASHBOARD_KEY, DrawnDashboard, draw_dashboard
from orchestration.disk_space import naming_a_full_disk
from orchestration.names import MARTS_SCHEMA, WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.settings import DEFAULT_PUBLISHED_FILE_MODE
from orchestration.transform import published_model_keys
from orchestration.warehouse_sql import SqlSession, scalar


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    parquet_dir: Path
    storage_version: str
    row_counts: dict[str, int]
    size_bytes: int
    removed_leftovers: list[Path]  # the versions of killed publishes, removed first


def parquet_dir_of(published_path: Path) -> Path:
    """Where each published model's Parquet file is: `parquet/<model>.parquet` beside the published file."""
    return published_path.parent / published_folder.PARQUET


def remove_dead_publishes(published_path: Path) -> list[Path]:
    """Remove the versions killed publishes left beside the published file (and the `.tmp` staging files of
    releases before the one-version layout); the ones removed."""
    leftovers = [
        *published_folder.dead_versions(published_path),
        *sorted(published_path.parent.glob(f".{published_path.name}.*.tmp*")),
    ]
    for leftover in leftovers:
        published_folder.discard(leftover) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    return leftovers


def publish_models(
    con: duckdb.DuckDBPyConnection,
    models: list[tuple[str, str]],
    published_path: Path,
    storage_version: str,
    file_mode: int = DEFAULT_PUBLISHED_FILE_MODE,
    *,
    before_swap: Callable[[Path], None] | None = None,
) -> PublishedFile:
    """Write `models` ((schema, name) pairs in the warehouse) to a new version (file and Parquet files), let
    `before_swap` add to it (given the new file; the dashboard), then swap the version in, readable as
    `file_mode` (CRM_PUBLISHED_FILE_MODE) says."""
    removed_leftovers = remove_dead_publishes(published_path)
    version = published_folder.new_version(published_path, file_mode)
    new_file, parquet_dir = version / published_path.name, version / published_folder.PARQUET
    row_counts: dict[str, int] = {}
    with naming_a_full_disk(published_path, "the published copy (CRM_PUBLISHED_PATH)"):
        try:
            parquet_dir.mkdir()
            con.execute(f"ATTACH '{new_file}' AS publish_target (STORAGE_VERSION '{storage_version}')")
            con.execute(f"CREATE SCHEMA publish_target.{MARTS_SCHEMA}")
            for schema, name in models:
                table = f'publish_target.{MARTS_SCHEMA}."{name}"'
                con.execute(f'CREATE TABLE {table} AS SELECT * FROM "{schema}"."{name}"')
                row_counts[name] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                con.execute(f"COPY {table} TO '{parquet_dir / name}.parquet' (FORMAT parquet)")
            con.execute("DETACH publish_target")  # checkpoints: everything is in the file, no .wal left behind
            with open(new_file, "rb") as written:
                os.fsync(written.fileno())
            if before_swap is not None:
                before_swap(new_file)
            crash_point("publish_before_rename")
            published_folder.swap_in(published_path, version, file_mode)
            crash_point("publish_after_rename")
        except BaseException:
            con.execute("DETACH DATABASE IF EXISTS publish_target")
            if published_folder.current_version(published_path) != version.resolve():
                published_folder.discard(version)
            raise
    return PublishedFile(
        path=published_path,
        parquet_dir=parquet_dir_of(published_path),
        storage_version=storage_version,
        row_counts=row_counts,
        size_bytes=published_path.stat().st_size,
        removed_leftovers=removed_leftovers,
    )


@dataclass(frozen=True)
class PublishedSchema:
    schema: str
    row_counts: dict[str, int]
    carried_over: list[str]  # models this run did not rebuild, published as they were


def publish_schema(session: SqlSession, models: list[str], build_schema: str, reader_role: str) -> PublishedSchema:
    """Swap the schema dbt built (`build_schema`) in as `marts`, in one transaction.

    A model the run did not rebuild (a partial materialization) is copied from the current `marts` first, so
    publishing never loses a model; a model in neither schema stops the publish, naming it.
    """
    built = {
        name
        for (name,) in session.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [build_schema]
        )
    }
    published = {
        name
        for (name,) in session.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [MARTS_SCHEMA]
        )
    }
    missing = sorted(set(models) - built - published)
    if missing:
        raise PublishError(
            f"cannot publish: {build_schema} and {MARTS_SCHEMA} lack {missing}; "
            "materialize those models (or run the whole crm_elt job) first"
        )
    carried_over = sorted(set(models) - built)
    with session.transaction():
        session.execute(f'CREATE SCHEMA IF NOT EXISTS "{build_schema}"')
        for name in carried_over:
            session.execute(f'CREATE TABLE "{build_schema}"."{name}" AS TABLE {MARTS_SCHEMA}."{name}"')
            session.execute(f'GRANT SELECT ON "{build_schema}"."{name}" TO "{reader_role}"')
        session.execute(f"DROP SCHEMA IF EXISTS {MARTS_SCHEMA} CASCADE")
        session.execute(f'ALTER SCHEMA "{build_schema}" RENAME TO {MARTS_SCHEMA}')
        # Schema usage is granted here, not by dbt, so that readers never enter the schema being built.
        session.execute(f'GRANT USAGE ON SCHEMA {MARTS_SCHEMA} TO "{reader_role}"')
        row_counts = {name: scalar(session, f'SELECT count(*) FROM {MARTS_SCHEMA}."{name}"') for name in models}
    return PublishedSchema(schema=MARTS_SCHEMA, row_counts=row_counts, carried_over=carried_over)


class PublishError(RuntimeError):
    """The published models cannot be swapped in; the message names what is missing and what to do."""


PUBLISHED_KEY = dg.AssetKey(["published", "crm_warehouse"])


def build_published_assets(*, with_dashboard: bool) -> dg.AssetsDefinition:
    """The publish step: the published models, and (on targets with a published DuckDB file) the dashboard drawn
    from them. One step, not two assets, because they are one version: a reader never sees the new marts beside
    the old dashboard. They materialize together (a subset of them cannot be selected)."""
    specs = [
        dg.AssetSpec(
            PUBLISHED_KEY,
            group_name="published",
            kinds={"duckdb"},
            deps=published_model_keys(),
            description="What analysts and BI tools read: every published model in schema `marts`, as a read-only "
            "DuckDB file and Parquet files (targets duckdb and spark) or the Postgres warehouse's own `marts` schema "
            "(target postgres).",
        )
    ]
    if with_dashboard:
        specs.append(
            dg.AssetSpec(
                DASHBOARD_KEY,
                group_name="published",
                kinds={"html"},
                deps=[PUBLISHED_KEY],
                description="A static dashboard (one offline HTML page and a PNG per panel) drawn from the "
                "published marts, published with them.",
            )
        )

    @dg.multi_asset(name="published", specs=specs, pool=WAREHOUSE_POOL)
    def published(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
        # Where this target keeps the models built (on Spark: views in the DuckDB file over Spark's tables).
        target = warehouse.for_target()
        schemas = target.relation_schemas()
        models = [(schemas.get(key.path[0], key.path[0]), key.path[-1]) for key in published_model_keys()]
        yield from target.publish(context, models, with_dashboard=with_dashboard)

    return published


def publish_duckdb_file(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    models: list[tuple[str, str]],
    published_path: Path,
    storage_version: str,
    file_mode: int,
    *,
    with_dashboard: bool,
) -> Iterator[dg.MaterializeResult]:
    """Publish on a target with a DuckDB file (publish_models), with the dashboard drawn from the new version."""
    dashboard: list[DrawnDashboard] = []
    published = publish_models(
        con,
        models,
        published_path,
        storage_version,
        file_mode,
        before_swap=(lambda new_file: dashboard.append(draw_dashboard(new_file))) if with_dashboard else None,
    )
    if published.removed_leftovers:
        context.log.info(
            f"removed what a killed publish left: {', '.join(p.name for p in published.removed_leftovers)}"
        )
    context.log.info(
        f"published {len(models)} models to {published.path} (DuckDB storage {published.storage_version})"
        f" and as Parquet to {published.parquet_dir}"
    )
    yield dg.MaterializeResult(
        asset_key=PUBLISHED_KEY,
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "parquet_dir": dg.MetadataValue.path(str(published.parquet_dir)),
            "storage_version": published.storage_version,
            "size_mb": round(published.size_bytes / 1e6, 2),
            "row_counts": published.row_counts,
        },
    )
    for drawn in dashboard:
        context.log.info(f"dashboard: {drawn.page_in(published.path)} ({len(drawn.charts)} panels)")
        yield dg.MaterializeResult(asset_key=DASHBOARD_KEY, metadata=drawn.metadata(published.path))


def publish_postgres_schema(
    context: dg.AssetExecutionContext, session: SqlSession, models: list[str], build_schema: str, reader_role: str
) -> dg.MaterializeResult:
    """Publish on a server target: the build schema swapped in as `marts` (publish_schema)."""
    swapped = publish_schema(session, models, build_schema, reader_role)
    context.log.info(
        f"published {len(models)} models: schema {build_schema} is now "
        f"{swapped.schema}" + (f" (carried over unchanged: {swapped.carried_over})" if swapped.carried_over else "")
    )
    return dg.MaterializeResult(
        asset_key=PUBLISHED_KEY,
        metadata={"schema": swapped.schema, "row_counts": swapped.row_counts, "carried_over": swapped.carried_over},
    )
