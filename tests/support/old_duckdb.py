"""An older DuckDB release in its own virtual environment, to open files the way a BI driver's embedded reader does.

BI drivers (JDBC/ODBC, Superset's duckdb-engine, Metabase's plugin) embed a DuckDB 1.x library that lags the
newest release. The environment is built once from PyPI and cached under pytest's cache folder, so only
the first run on a machine pays for it (about 20 s).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

OLD_RELEASE = "1.1.3"  # the newest 1.1 release: the storage format of DuckDB 1.0 and 1.1 (version 64)

# Run by the old release: every table of schema `marts` and its row count, as JSON.
COUNT_TABLES = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [name for (name,) in con.execute(
    "select table_name from information_schema.tables where table_schema = 'marts' order by table_name").fetchall()]
counts = {name: con.execute(f'select count(*) from marts."{name}"').fetchone()[0] for name in tables}
print(json.dumps({"version": duckdb.__version__, "row_counts": counts}))
"""


def old_duckdb_python(cache_dir: Path) -> Path:
    """The Python of a venv holding duckdb==OLD_RELEASE, built in `cache_dir` on first use."""
    environment = cache_dir / "venv"
    python, ready = environment / "bin" / "python", environment / "installed"
    # Test processes running in parallel share the cache: one builds, the others wait for it.
    with (cache_dir / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            _build(environment, python, ready)
    return python


def _build(environment: Path, python: Path, ready: Path) -> None:
    shutil.rmtree(environment, ignore_errors=True)  # an earlier attempt that did not finish
    venv.create(environment, with_pip=True)
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"duckdb=={OLD_RELEASE}"],
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        pytest.fail(
            f"could not install duckdb=={OLD_RELEASE} from PyPI into {environment}:\n{installed.stderr[-2000:]}"
        )
    ready.touch()


def read_with_old_duckdb(python: Path, database: Path) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", COUNT_TABLES, str(database)], capture_output=True, text=True)


def row_counts_read_by_old_duckdb(python: Path, database: Path) -> tuple[str, dict[str, int]]:
    """(the reader's DuckDB version, row count of every table in schema marts)."""
    result = read_with_old_duckdb(python, database)
    assert result.returncode == 0, f"DuckDB {OLD_RELEASE} could not read {database}:\n{result.stderr[-2000:]}"
    answer = json.loads(result.stdout)
    return answer["version"], answer["row_counts"]


@pytest.fixture(scope="session")
def old_duckdb(request: pytest.FixtureRequest) -> Path:
    return old_duckdb_python(request.config.cache.mkdir(f"duckdb-{OLD_RELEASE}"))
