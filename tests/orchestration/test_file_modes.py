"""Who can read what (issue 21 §5): the warehouse is its owner's alone, the published copies get CRM_PUBLISHED_FILE_MODE."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.dashboard.asset import dashboard_dir_of
from orchestration.file_modes import private_files
from orchestration.publish import parquet_dir_of, publish_models
from orchestration.resources import WarehouseResource
from orchestration.settings import DEFAULT_STORAGE_VERSION, Settings, SettingsError
from tests.support.pipeline import Pipeline

# Run by a child process while the resource is in use, as dbt's build is: it writes the warehouse and reports the
# mode of the write-ahead log DuckDB created for it (DuckDB deletes the log when the connection closes).
CHILD_WRITES_THE_WAREHOUSE = """
import os, stat, sys
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table written_by_dbt as select 1 as id")
print(oct(stat.S_IMODE(os.stat(sys.argv[1] + ".wal").st_mode)))
"""


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def warehouse_in(folder: Path) -> WarehouseResource:
    return WarehouseResource(path=str(folder / "warehouse.duckdb"), published_path=str(folder / "published.duckdb"))


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The usual umask (files 0644), whatever pytest's was: what the pipeline's own modes must overrule."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_warehouse_and_its_write_ahead_log_are_created_for_their_owner_only(tmp_path: Path, usual_umask) -> None:
    with dg.build_resources({"warehouse": warehouse_in(tmp_path)}) as resources:
        with resources.warehouse.connect() as con:
            con.execute("create table contacts as select 'a@example.com' as email")
            assert mode_of(tmp_path / "warehouse.duckdb.wal") == 0o600
        child = subprocess.run(
            [sys.executable, "-c", CHILD_WRITES_THE_WAREHOUSE, str(tmp_path / "warehouse.duckdb")],
            capture_output=True,
            text=True,
            check=True,
        )
    assert mode_of(tmp_path / "warehouse.duckdb") == 0o600
    assert child.stdout.strip() == "0o600", "a process the run starts (dbt) must write the .wal privately too"
    assert os.umask(0o022) == 0o022, "the umask is the process's again once the resource is released"


def test_a_warehouse_an_older_release_made_readable_to_all_is_made_private_at_the_next_connect(
    tmp_path: Path, usual_umask
) -> None:
    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()
    (tmp_path / "warehouse.duckdb").chmod(0o644)
    with warehouse_in(tmp_path).connect():
        pass
    assert mode_of(tmp_path / "warehouse.duckdb") == 0o600


@pytest.mark.parametrize(
    ("file_mode", "folder_mode"), [(0o640, 0o750), (0o600, 0o700), (0o644, 0o755)], ids=["0640", "0600", "0644"]
)
def test_the_published_file_parquet_and_their_folders_get_the_published_mode(
    tmp_path: Path, file_mode: int, folder_mode: int, usual_umask
) -> None:
    published_path = tmp_path / "published" / "crm.duckdb"
    with duckdb.connect() as con, private_files():  # as in a run: without the mode they would be private
        con.execute("create schema marts")
        con.execute("create table marts.mart_example as select 1 as id")
        publish_models(con, [("marts", "mart_example")], published_path, DEFAULT_STORAGE_VERSION, file_mode)
    parquet_version = parquet_dir_of(published_path).resolve()
    assert (mode_of(published_path), mode_of(parquet_version / "mart_example.parquet")) == (file_mode, file_mode)
    assert (mode_of(published_path.parent), mode_of(parquet_version)) == (folder_mode, folder_mode)


def test_a_run_publishes_readable_copies_and_keeps_the_warehouse_private(clean_pipeline: Pipeline) -> None:
    published = [
        clean_pipeline.published_path,
        *parquet_dir_of(clean_pipeline.published_path).glob("*.parquet"),
        *dashboard_dir_of(clean_pipeline.published_path).iterdir(),
    ]
    assert len(published) > 30
    assert {path.name: mode_of(path) for path in published} == {path.name: 0o640 for path in published}
    assert mode_of(dashboard_dir_of(clean_pipeline.published_path).resolve()) == 0o750
    assert mode_of(clean_pipeline.warehouse_path) == 0o600


@pytest.mark.parametrize(("value", "mode"), [(None, 0o640), ("0600", 0o600), ("644", 0o644), ("0440", 0o440)])
def test_the_published_file_mode_is_read_as_octal_with_0640_by_default(value: str | None, mode: int) -> None:
    environment = {"CRM_PUBLISHED_FILE_MODE": value} if value else {}
    assert Settings.from_environment(environment).published_file_mode == mode


@pytest.mark.parametrize("value", ["0660", "0666", "0750", "0200", "640 ", "rw-r-----", "0o640", "6400"])
def test_a_published_file_mode_others_could_write_or_run_or_the_owner_not_read_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match=rf"CRM_PUBLISHED_FILE_MODE='{value}'.*such as 0640 .*0600 .*0644"):
        Settings.from_environment({"CRM_PUBLISHED_FILE_MODE": value})
