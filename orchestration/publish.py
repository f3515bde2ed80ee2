"""Publish: copy the published models into a separate read-only file, swapped into place atomically.

Analysts and BI tools open CRM_PUBLISHED_PATH, never the warehouse the pipeline writes: a reader then
never blocks a run (DuckDB allows one writer or many readers per file), and never sees a half-built mart,
because the new file is written beside the old one and renamed over it in one step. A reader that has the
old file open keeps reading the old data until it reconnects.
"""

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.extract import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.transform import published_model_keys

PUBLISHED_SCHEMA = "marts"


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    row_counts: dict[str, int]
    size_bytes: int


def publish_models(con: duckdb.DuckDBPyConnection, models: list[tuple[str, str]], published_path: Path) -> PublishedFile:
    """Write `models` ((schema, name) pairs in the warehouse) to a new file, then rename it over the old one."""
    published_path.parent.mkdir(parents=True, exist_ok=True)
    staging_path = published_path.with_name(f".{published_path.name}.{uuid.uuid4().hex}.tmp")
    row_counts: dict[str, int] = {}
    try:
        con.execute(f"ATTACH '{staging_path}' AS publish_target")
        con.execute(f"CREATE SCHEMA publish_target.{PUBLISHED_SCHEMA}")
        for schema, name in models:
            con.execute(f'CREATE TABLE publish_target.{PUBLISHED_SCHEMA}."{name}" AS SELECT * FROM "{schema}"."{name}"')
            row_counts[name] = con.execute(f'SELECT count(*) FROM publish_target.{PUBLISHED_SCHEMA}."{name}"').fetchone()[0]
        con.execute("DETACH publish_target")  # checkpoints: everything is in the file, no .wal left behind
        with open(staging_path, "rb") as written:
            os.fsync(written.fileno())
        os.replace(staging_path, published_path)
    finally:
        staging_path.unlink(missing_ok=True)
        Path(f"{staging_path}.wal").unlink(missing_ok=True)
    return PublishedFile(path=published_path, row_counts=row_counts, size_bytes=published_path.stat().st_size)


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
        published = publish_models(con, models, Path(warehouse.published_path))
    context.log.info(f"published {len(models)} models to {published.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "size_mb": round(published.size_bytes / 1e6, 2),
            "row_counts": published.row_counts,
        }
    )
