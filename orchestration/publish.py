"""Publish: copy the published models into a separate read-only file, swapped into place atomically.

Analysts and BI tools open CRM_PUBLISHED_PATH, never the warehouse the pipeline writes: a reader then
never blocks a run (DuckDB allows one writer or many readers per file), and never sees a half-built mart,
because the new file is written beside the old one and renamed over it in one step. A reader that has the
old file open keeps reading the old data until it reconnects.

The file is written in an older DuckDB storage format (CRM_PUBLISHED_STORAGE_VERSION, default v1.0.0) so
that the DuckDB 1.x readers embedded in BI drivers open it, and every model is also exported as one Parquet
file in `parquet/` beside it, for tools that read files. Both are written before either is swapped in.
"""

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import published_folder
from orchestration.extract import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.transform import published_model_keys

PUBLISHED_SCHEMA = "marts"


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    parquet_dir: Path
    storage_version: str
    row_counts: dict[str, int]
    size_bytes: int


def parquet_dir_of(published_path: Path) -> Path:
    """Where each published model's Parquet file goes: `parquet/<model>.parquet` beside the published file."""
    return published_path.parent / "parquet"


def publish_models(con: duckdb.DuckDBPyConnection, models: list[tuple[str, str]], published_path: Path,
                   storage_version: str) -> PublishedFile:
    """Write `models` ((schema, name) pairs in the warehouse) to a new file and new Parquet files, then swap both in."""
    published_path.parent.mkdir(parents=True, exist_ok=True)
    staging_path = published_path.with_name(f".{published_path.name}.{uuid.uuid4().hex}.tmp")
    parquet_dir = parquet_dir_of(published_path)
    parquet_version = published_folder.new_version(parquet_dir)
    row_counts: dict[str, int] = {}
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
        os.replace(staging_path, published_path)
        published_folder.swap_in(parquet_dir, parquet_version)
    finally:
        staging_path.unlink(missing_ok=True)
        Path(f"{staging_path}.wal").unlink(missing_ok=True)
        if parquet_dir.resolve() != parquet_version.resolve():
            published_folder.discard(parquet_version)
    return PublishedFile(path=published_path, parquet_dir=parquet_dir, storage_version=storage_version,
                         row_counts=row_counts, size_bytes=published_path.stat().st_size)


@dg.asset(
    key=dg.AssetKey(["published", "crm_warehouse"]),
    group_name="published",
    kinds={"duckdb"},
    deps=published_model_keys(),
    pool=WAREHOUSE_POOL,
    description="The read-only copy of every published model (schema `marts`) that analysts and BI tools open.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    models = [(key.path[0], key.path[-1]) for key in published_model_keys()]
    with warehouse.connect() as con:
        published = publish_models(con, models, Path(warehouse.published_path), warehouse.published_storage_version)
    context.log.info(f"published {len(models)} models to {published.path} (DuckDB storage {published.storage_version})"
                     f" and as Parquet to {published.parquet_dir}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "parquet_dir": dg.MetadataValue.path(str(published.parquet_dir)),
            "storage_version": published.storage_version,
            "size_mb": round(published.size_bytes / 1e6, 2),
            "row_counts": published.row_counts,
        }
    )
