"""The published warehouse opens in the DuckDB 1.x readers BI drivers embed, and every model is also a Parquet file."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import parquet_dir_of, publish_models
from orchestration.settings import DEFAULT_STORAGE_VERSION, Settings, SettingsError
from orchestration.transform import published_model_keys
from tests.support.old_duckdb import OLD_RELEASE, read_with_old_duckdb, row_counts_read_by_old_duckdb
from tests.support.pipeline import Pipeline


def warehouse_row_counts(pipeline: Pipeline) -> dict[str, int]:
    """Every published model's row count in the warehouse the pipeline wrote (not in the published copy)."""
    with duckdb.connect(str(pipeline.warehouse_path), read_only=True) as con:
        return {
            key.path[-1]: con.execute(f'select count(*) from "{key.path[0]}"."{key.path[-1]}"').fetchone()[0]
            for key in published_model_keys()
        }


def test_an_older_duckdb_release_reads_every_published_model(clean_pipeline: Pipeline, old_duckdb: Path) -> None:
    version, row_counts = row_counts_read_by_old_duckdb(old_duckdb, clean_pipeline.published_path)
    expected = warehouse_row_counts(clean_pipeline)
    assert version == OLD_RELEASE
    assert row_counts == expected
    assert sum(expected.values()) > 0


def test_the_newest_storage_format_would_lock_the_older_release_out(tmp_path: Path, old_duckdb: Path) -> None:
    """Why the storage version is set: the same model written in the newest format is unreadable by DuckDB 1.1."""
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_example as select 1 as id, 2.50::decimal(18, 2) as amount")
        publish_models(con, [("marts", "mart_example")], tmp_path / "latest" / "crm.duckdb", "latest")
        publish_models(con, [("marts", "mart_example")], tmp_path / "default" / "crm.duckdb", DEFAULT_STORAGE_VERSION)
    refused = read_with_old_duckdb(old_duckdb, tmp_path / "latest" / "crm.duckdb")
    assert refused.returncode != 0 and "version number" in refused.stderr
    assert row_counts_read_by_old_duckdb(old_duckdb, tmp_path / "default" / "crm.duckdb")[1] == {"mart_example": 1}


def test_every_published_model_is_a_parquet_file_beside_the_published_file(clean_pipeline: Pipeline) -> None:
    parquet_dir = parquet_dir_of(clean_pipeline.published_path)
    expected = warehouse_row_counts(clean_pipeline)
    assert parquet_dir.parent == clean_pipeline.published_path.parent
    assert sorted(path.stem for path in parquet_dir.glob("*.parquet")) == sorted(expected)
    with duckdb.connect() as con:
        for model, rows in expected.items():
            assert con.execute(f"select count(*) from '{parquet_dir / model}.parquet'").fetchone()[0] == rows, model


def test_a_publish_replaces_the_parquet_folder_and_keeps_no_old_version(tmp_path: Path) -> None:
    published_path = tmp_path / "published" / "crm.duckdb"
    with duckdb.connect() as con:
        con.execute("create schema marts")
        for rows in (3, 5):
            con.execute(f"create or replace table marts.mart_example as select range as id from range({rows})")
            publish_models(con, [("marts", "mart_example")], published_path, DEFAULT_STORAGE_VERSION)
        assert (
            con.execute(f"select count(*) from '{parquet_dir_of(published_path)}/mart_example.parquet'").fetchone()[0]
            == 5
        )
    assert sorted(path.name for path in published_path.parent.iterdir() if path.name.startswith(".")) == [
        parquet_dir_of(published_path).resolve().parent.name  # the one version folder, the current one
    ]
    assert published_path.resolve().parent == parquet_dir_of(published_path).resolve().parent


def test_a_failed_publish_leaves_the_published_file_and_parquet_as_they_were(tmp_path: Path) -> None:
    published_path = tmp_path / "published" / "crm.duckdb"
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_example as select 1 as id")
        publish_models(con, [("marts", "mart_example")], published_path, DEFAULT_STORAGE_VERSION)
        before = published_path.read_bytes(), parquet_dir_of(published_path).resolve()
        with pytest.raises(duckdb.CatalogException):
            publish_models(
                con, [("marts", "mart_example"), ("marts", "mart_missing")], published_path, DEFAULT_STORAGE_VERSION
            )
    assert (published_path.read_bytes(), parquet_dir_of(published_path).resolve()) == before
    assert len([path for path in published_path.parent.iterdir() if path.name.startswith(".")]) == 1


class DiesAt:
    """A connection whose process is killed (exit without cleanup, as by kill -9) when it is given `sql`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sql: str) -> None:
        self.con, self.sql = con, sql

    def execute(self, sql: str) -> duckdb.DuckDBPyConnection:
        if sql.startswith(self.sql):
            os._exit(9)
        return self.con.execute(sql)


def test_a_publish_removes_what_a_killed_publish_left_beside_the_published_file(tmp_path: Path) -> None:
    published_path = tmp_path / "published" / "crm.duckdb"
    if (child := os.fork()) == 0:  # a publish killed while it writes the staging file and the Parquet files
        with duckdb.connect() as con:
            con.execute("create schema marts")
            con.execute("create table marts.mart_example as select range as id from range(1000)")
            publish_models(DiesAt(con, "COPY"), [("marts", "mart_example")], published_path, DEFAULT_STORAGE_VERSION)
        os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 9
    left = sorted(path.name for path in published_path.parent.iterdir())
    assert len(left) == 1 and left[0].startswith(".published."), left  # a half-written version, never swapped in

    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_example as select 1 as id")
        published = publish_models(con, [("marts", "mart_example")], published_path, DEFAULT_STORAGE_VERSION)
    assert [path.name for path in published.removed_leftovers] == left
    assert sorted(path.name for path in published_path.parent.iterdir()) == sorted(
        ["crm.duckdb", "parquet", "current", published_path.resolve().parent.name]
    )


def test_a_storage_version_that_is_no_duckdb_release_is_refused() -> None:
    with pytest.raises(SettingsError, match="CRM_PUBLISHED_STORAGE_VERSION"):
        Settings.from_environment({"CRM_PUBLISHED_STORAGE_VERSION": "1.0"})


def test_the_bi_guides_sql_runs_on_the_published_file_and_its_parquet(clean_pipeline: Pipeline) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "bi-guide.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", guide, flags=re.DOTALL)
    assert any("parquet" in query for query in queries) and any("marts." in query for query in queries)
    published_dir = clean_pipeline.published_path.parent
    with duckdb.connect(str(clean_pipeline.published_path), read_only=True) as con:
        for query in queries:
            assert con.execute(query.replace("data/published/", f"{published_dir}/")).fetchall(), query


def test_a_publish_over_the_layout_of_older_releases_turns_it_into_links(tmp_path: Path) -> None:
    """Releases before the one-version layout left a plain file, a plain `parquet/` folder and hidden per-folder
    versions: the first publish replaces them with the links readers use and removes the rest."""
    published_path = tmp_path / "published" / "crm.duckdb"
    published_path.parent.mkdir()
    published_path.write_bytes(b"an older release's file")
    (published_path.parent / ".parquet.0123").mkdir()
    (published_path.parent / "parquet").mkdir()
    (published_path.parent / ".crm.duckdb.0123.tmp").write_bytes(b"a killed publish's staging file")
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_example as select range as id from range(4)")
        publish_models(con, [("marts", "mart_example")], published_path, DEFAULT_STORAGE_VERSION)
    version = published_path.resolve().parent
    assert sorted(path.name for path in published_path.parent.iterdir()) == sorted(
        ["crm.duckdb", "parquet", "current", version.name]
    )
    assert all((published_path.parent / name).is_symlink() for name in ("crm.duckdb", "parquet", "current"))
    with duckdb.connect(str(published_path), read_only=True) as con:
        assert con.execute("select count(*) from marts.mart_example").fetchone()[0] == 4
    assert parquet_dir_of(published_path).resolve() == version / "parquet"
