"""A full disk while landing, merging, building (dbt) or publishing: one plain message naming the folder and what
is left, nothing half-written kept, and the next attempt, space freed, goes through.

The warehouse (or the published file) lives on a small tmpfs that the test fills with a file of its own: a real
full disk (ENOSPC), which mounting needs root for (CI runs as root; elsewhere these tests skip, saying so).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from crm_contract import source_table
from orchestration.disk_space import DiskFullError
from orchestration.incremental_load import DuckDBRawLoader, read_watermark
from orchestration.publish import publish_models
from orchestration.resources import WarehouseResource
from orchestration.source_reader import SourceReader
from tests.support.pipeline import Pipeline, failure_messages, file_digest, table_fingerprints
from tests.support.raw_comparison import raw_rows, source_rows

ACTIVITIES = source_table("activities")


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs (mounting needs root: CI runs as root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"a full disk is simulated on a small tmpfs, which needs root to mount: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave_bytes: int = 64_000) -> Path:
    """Take all but `leave_bytes` of the disk's free space."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        out.truncate(0)
        out.write(b"\0" * max(shutil.disk_usage(disk).free - leave_bytes, 0))
    return filler


def warehouse_on(folder: Path) -> WarehouseResource:
    return WarehouseResource(path=str(folder / "warehouse.duckdb"), published_path=str(folder / "published.duckdb"))


def test_landing_on_a_full_disk_says_so_once_and_lands_once_space_is_freed(small_disk: Path, source):
    url, _ = source
    loader = DuckDBRawLoader(warehouse_on(small_disk).connect)
    filler = fill(small_disk)

    with pytest.raises(DiskFullError) as full:
        loader.land_table(SourceReader(url), ACTIVITIES, load_id="full", full_refresh=True)

    assert str(full.value).startswith(f"disk full: {small_disk} has ")
    assert "too little for the warehouse (CRM_WAREHOUSE_PATH); nothing half-written was kept" in str(full.value)
    filler.unlink()
    loader.land_table(SourceReader(url), ACTIVITIES, load_id="freed", full_refresh=True)
    loader.merge_landed([ACTIVITIES])
    with duckdb.connect(str(small_disk / "warehouse.duckdb"), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        assert raw_rows(con, "activities") == source_rows(url, "activities")


def test_a_merge_on_a_full_disk_moves_no_row_and_no_watermark(small_disk: Path, source):
    url, _ = source
    loader = DuckDBRawLoader(warehouse_on(small_disk).connect)
    loader.land_table(SourceReader(url), ACTIVITIES, load_id="landed")
    filler = fill(small_disk, leave_bytes=0)

    with pytest.raises(DiskFullError, match=r"^disk full: "):
        loader.merge_landed([ACTIVITIES])

    filler.unlink()
    with duckdb.connect(str(small_disk / "warehouse.duckdb"), read_only=True) as con:
        assert read_watermark(con, "activities") is None  # the merge left nothing behind
    (merged,) = loader.merge_landed([ACTIVITIES])  # the landed batch was kept: it merges now
    assert merged.rows_inserted == len(source_rows(url, "activities"))


def test_publishing_on_a_full_disk_keeps_the_published_file_and_leaves_nothing_beside_it(
    small_disk: Path, tmp_path: Path
):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.small as select 1 as one")
        con.execute("create table marts.large as select range as id, md5(range::varchar) as text from range(400000)")
    published = small_disk / "published" / "crm.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        publish_models(con, [("marts", "small")], published, "v1.0.0")
    before = file_digest(published)
    filler = fill(small_disk, leave_bytes=2_000_000)

    with duckdb.connect(str(warehouse)) as con, pytest.raises(DiskFullError) as full:
        publish_models(con, [("marts", "small"), ("marts", "large")], published, "v1.0.0")

    assert str(full.value).startswith(f"disk full: {published.parent} has ")
    assert "too little for the published copy (CRM_PUBLISHED_PATH)" in str(full.value)
    assert file_digest(published) == before
    assert not [path for path in published.parent.iterdir() if path.name.startswith(".crm.duckdb.")]
    filler.unlink()
    with duckdb.connect(str(warehouse)) as con:
        assert publish_models(con, [("marts", "small"), ("marts", "large")], published, "v1.0.0").row_counts == {
            "small": 1,
            "large": 400_000,
        }


def test_a_dbt_build_on_a_full_disk_says_so_keeps_the_published_file_and_the_next_run_recovers(
    small_disk: Path, clean_pipeline: Pipeline
):
    """The clean pipeline's folder on the small disk, its warehouse rebuilt by dbt with 64 kB left, then with space."""
    from orchestration.transform import crm_dbt_models

    folder = clean_pipeline.copy_to(small_disk / "data")
    from_dbt_on = dg.AssetSelection.assets(*crm_dbt_models.keys).downstream()  # dbt, gate 2, publish, dashboard
    published_before = file_digest(folder.published_path)
    filler = fill(small_disk, leave_bytes=64_000)

    failed = folder.run(asset_selection=from_dbt_on)

    assert not failed.success
    message = failure_messages(failed)["crm_dbt_models"]  # dbt's own errors follow, as its cause
    said = rf"DiskFullError: disk full: {re.escape(str(folder.data_dir))} has [0-9.]+ MB left, too little for the "
    assert re.search(said + r"warehouse \(CRM_WAREHOUSE_PATH\); nothing half-written was kept", message), message[:3000]
    assert file_digest(folder.published_path) == published_before
    filler.unlink()

    recovered = folder.run(asset_selection=from_dbt_on)

    assert recovered.success, failure_messages(recovered)
    assert table_fingerprints(folder.published_path, "marts") == table_fingerprints(
        clean_pipeline.published_path, "marts"
    )
