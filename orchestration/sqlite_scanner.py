"""DuckDB's own SQLite scanner, loaded from the `duckdb-extension-sqlite-scanner` wheel.

The machine has no network, so the extension is LOADed from the wheel's file (INSTALL would try to download
it). The wheel is built for one DuckDB version; without it, or with another DuckDB, the scanner is simply
not available and SQLite sources are read with connectorx instead (orchestration/source_reader.py).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# The attached CRM file's name in DuckDB's catalog.
SOURCE_CATALOG = "crm_source"


def sqlite_scanner_extension() -> Path | None:
    """The extension file the wheel ships for the running DuckDB, or None when there is none."""
    try:
        import duckdb_extension_sqlite_scanner
    except ImportError:
        return None
    extension = (
        Path(duckdb_extension_sqlite_scanner.__file__).parent
        / "extensions"
        / f"v{duckdb.__version__}"
        / "sqlite_scanner.duckdb_extension"
    )
    return extension if extension.is_file() else None


def attach_sqlite(con: duckdb.DuckDBPyConnection, source: Path, *, busy_timeout_seconds: float = 5.0) -> None:
    """Load the scanner and attach `source` read-only as SOURCE_CATALOG.

    The scanner takes SQLite's locks like any SQLite client; a writer holding the file makes a read wait up to
    `busy_timeout_seconds`, then fail with "database is locked".
    """
    extension = sqlite_scanner_extension()
    if extension is None:
        raise RuntimeError(
            f"the duckdb-extension-sqlite-scanner wheel for DuckDB {duckdb.__version__} is not installed"
        )
    con.execute(f"LOAD '{extension}'")
    path = str(source).replace("'", "''")
    con.execute(
        f"ATTACH '{path}' AS {SOURCE_CATALOG} "
        f"(TYPE sqlite, READ_ONLY, BUSY_TIMEOUT {round(busy_timeout_seconds * 1000)})"
    )
