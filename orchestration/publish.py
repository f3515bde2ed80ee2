"""Publish: copy the published models into a separate read-only file, swapped into place atomically.

Analysts and BI tools open CRM_PUBLISHED_PATH, never the warehouse the pipeline writes: a reader then
never blocks a run (DuckDB allows one writer or many readers per file), and never sees a half-built mart,
because the new file is written beside the old one and renamed over it in one step. A reader that has the
old file open keeps reading the old data until it reconnects.

The file is written in an older DuckDB storage format (CRM_PUBLISHED_STORAGE_VERSION, default v1.0.0) so
that the DuckDB 1.x readers embedded in BI drivers open it, and every model is also exported as one Parquet
file in `parquet/` beside it, for tools that read files. Both are written before either is swapped in, with
the mode CRM_PUBLISHED_FILE_MODE sets (orchestration/file_modes.py).
"""

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import published_folder
from orchestration.crash_points import crash_point
from orchestration.disk_space import naming_a_full_disk
from orchestration.file_modes import make_folder
from orchestration.resources import WarehouseResource
from orchestration.settings import DEFAULT_PUBLISHED_FILE_MODE
from orchestration.transform import published_model_keys
from orchestration.warehouse_sql import SqlSession, scalar
from orchestration.writer_lock import WAREHOUSE_POOL

PUBLISHED_SCHEMA = "marts"


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    parquet_dir: Path
    storage_version: str
    row_counts: dict[str, int]
    size_bytes: int
    removed_leftovers: list[Path]  # staging files of a killed publish, removed first


def parquet_dir_of(published_path: Path) -> Path:
    """Where each published model's Parquet file goes: `parquet/<model>.parquet` beside the published file."""
    return published_path.parent / "parquet"


def remove_dead_publishes(published_path: Path) -> list[Path]:
    """Remove the staging files (`.<name>.<id>.tmp` and its `.wal`) a killed publish left beside the published
    file; the ones removed. Any there at the start of a publish are dead: one publish writes at a time (the run
    holds the warehouse's writer lock). A killed publish's Parquet folder goes at the next swap (published_folder)."""
    leftovers = sorted(published_path.parent.glob(f".{published_path.name}.*.tmp*"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


def publish_models(
    con: duckdb.DuckDBPyConnection,
    models: list[tuple[str, str]],
    published_path: Path,
    storage_version: str,
    file_mode: int = DEFAULT_PUBLISHED_FILE_MODE,
) -> PublishedFile:
    """Write `models` ((schema, name) pairs in the warehouse) to a new file and new Parquet files, then swap both in,
    readable as `file_mode` (CRM_PUBLISHED_FILE_MODE) says."""
    make_folder(published_path.parent, file_mode)
    removed_leftovers = remove_dead_publishes(published_path)
    staging_path = published_path.with_name(f".{published_path.name}.{uuid.uuid4().hex}.tmp")
    parquet_dir = parquet_dir_of(published_path)
    parquet_version = published_folder.new_version(parquet_dir)
    row_counts: dict[str, int] = {}
    with naming_a_full_disk(published_path, "the published copy (CRM_PUBLISHED_PATH)"):
        try:
            con.execute(f"ATTACH '{staging_path}' AS publish_target (STORAGE_VERSION '{storage_version}')")
            con.execute(f"CREATE SCHEMA publish_target.{PUBLISHED_SCHEMA}")
            for schema, name in models:
                table = f'publish_target.{PUBLISHED_SCHEMA}."{name}"'
                con.execute(f'CREATE TABLE {table} AS SELECT * FROM "{schema}"."{name}"')
                row_counts[name] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                con.execute(f"COPY {table} TO '{parquet_version / name}.parquet' (FORMAT parquet)")
            con.execute("DETACH publish_target")  # checkpoints: everything is in the file, no .wal left behind
            with open(staging_path, "rb") as written:
                os.fsync(written.fileno())
            staging_path.chmod(file_mode)
            crash_point("publish_before_rename")
            os.replace(staging_path, published_path)
            crash_point("publish_after_rename")
            published_folder.swap_in(parquet_dir, parquet_version, file_mode)
        finally:
            staging_path.unlink(missing_ok=True)
            Path(f"{staging_path}.wal").unlink(missing_ok=True)
            if parquet_dir.resolve() != parquet_version.resolve():
                published_folder.discard(parquet_version)
    return PublishedFile(
        path=published_path,
        parquet_dir=parquet_dir,
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
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [PUBLISHED_SCHEMA]
        )
    }
    missing = sorted(set(models) - built - published)
    if missing:
        raise PublishError(
            f"cannot publish: {build_schema} and {PUBLISHED_SCHEMA} lack {missing}; "
            "materialize those models (or run the whole crm_elt job) first"
        )
    carried_over = sorted(set(models) - built)
    with session.transaction():
        session.execute(f'CREATE SCHEMA IF NOT EXISTS "{build_schema}"')
        for name in carried_over:
            session.execute(f'CREATE TABLE "{build_schema}"."{name}" AS TABLE {PUBLISHED_SCHEMA}."{name}"')
            session.execute(f'GRANT SELECT ON "{build_schema}"."{name}" TO "{reader_role}"')
        session.execute(f"DROP SCHEMA IF EXISTS {PUBLISHED_SCHEMA} CASCADE")
        session.execute(f'ALTER SCHEMA "{build_schema}" RENAME TO {PUBLISHED_SCHEMA}')
        # Schema usage is granted here, not by dbt, so that readers never enter the schema being built.
        session.execute(f'GRANT USAGE ON SCHEMA {PUBLISHED_SCHEMA} TO "{reader_role}"')
        row_counts = {name: scalar(session, f'SELECT count(*) FROM {PUBLISHED_SCHEMA}."{name}"') for name in models}
    return PublishedSchema(schema=PUBLISHED_SCHEMA, row_counts=row_counts, carried_over=carried_over)


class PublishError(RuntimeError):
    """The published models cannot be swapped in; the message names what is missing and what to do."""


@dg.asset(
    key=dg.AssetKey(["published", "crm_warehouse"]),
    group_name="published",
    kinds={"duckdb"},
    deps=published_model_keys(),
    pool=WAREHOUSE_POOL,
    description="What analysts and BI tools read: every published model in schema `marts`, as a read-only DuckDB "
    "file (targets duckdb and spark) or the Postgres warehouse's own `marts` schema (target postgres).",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    # Where this target keeps the models built (on Spark: views in the DuckDB file over Spark's tables).
    schemas = warehouse.relation_schemas()
    models = [(schemas.get(key.path[0], key.path[0]), key.path[-1]) for key in published_model_keys()]
    if warehouse.target == "postgres":
        with warehouse.session() as session:
            swapped = publish_schema(
                session, [name for _, name in models], warehouse.marts_schema, warehouse.reader_role
            )
        context.log.info(
            f"published {len(models)} models: schema {warehouse.marts_schema} is now "
            f"{swapped.schema}" + (f" (carried over unchanged: {swapped.carried_over})" if swapped.carried_over else "")
        )
        return dg.MaterializeResult(
            metadata={"schema": swapped.schema, "row_counts": swapped.row_counts, "carried_over": swapped.carried_over}
        )
    with warehouse.connect() as con:
        published = publish_models(
            con,
            models,
            Path(warehouse.published_path),
            warehouse.published_storage_version,
            warehouse.published_file_mode,
        )
    if published.removed_leftovers:
        context.log.info(
            f"removed what a killed publish left: {', '.join(p.name for p in published.removed_leftovers)}"
        )
    context.log.info(
        f"published {len(models)} models to {published.path} (DuckDB storage {published.storage_version})"
        f" and as Parquet to {published.parquet_dir}"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "parquet_dir": dg.MetadataValue.path(str(published.parquet_dir)),
            "storage_version": published.storage_version,
            "size_mb": round(published.size_bytes / 1e6, 2),
            "row_counts": published.row_counts,
        }
    )
