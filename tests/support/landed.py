"""A warehouse in which every table of a source system is landed and nothing merged: what gate 1 judges, for the
gate tests of each system (tests/quality/test_<system>_gate_1.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from orchestration.file_reader import NothingDropped
from orchestration.incremental_load import land_table
from orchestration.resources import WarehouseResource
from orchestration.source_reader import SourceReader
from orchestration.source_system import SourceSystem


def land_every_table(system: SourceSystem, url: str, path: Path, *, load_id: str) -> Path:
    """Land every table of `system` from the database at `url` (the file-drop tables empty) into the DuckDB file
    `path`, each batch a table a test may break rows of; `path`."""
    with duckdb.connect(str(path)) as con:
        for table in system.tables:
            reader = SourceReader(url) if system.reads_database(table) else NothingDropped()
            land_table(con, reader, table, load_id=load_id)
            # A first load's batch is a view of the table the merge renames into place: made a table here, so that
            # a test can break its rows (the gate reads the same rows either way).
            kind = con.execute(
                "select table_type from information_schema.tables where table_schema = 'landing' and table_name = ?",
                [table.name],
            ).fetchone()[0]
            if kind == "VIEW":
                con.execute(f"create table landing._copy as select * from landing.{table.name}")
                con.execute(f"drop view landing.{table.name}")
                con.execute(f"alter table landing._copy rename to {table.name}")
    return path


def warehouse_copy(template: Path, folder: Path) -> WarehouseResource:
    """A copy of a landed warehouse in `folder`, free to dirty, as gate 1's WarehouseResource sees it."""
    path = Path(shutil.copy(template, folder / "warehouse.duckdb"))
    return WarehouseResource(path=str(path), published_path=str(folder / "published.duckdb"))
