"""Reading a CSV or Parquet export of one CRM table (a file dropped in CRM_LANDING_DIR) into Arrow.

A file stands in for the CRM database: it answers the same two calls as SourceReader (`check_columns`,
`read`), so `land_table` types, deduplicates and lands its rows exactly as it does a database batch, and
gate 1 checks them before they are merged. DuckDB reads both formats natively. CSV columns are parsed with
the contract's types, so a value that does not fit its column fails here and the error names the column.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from crm_contract import SourceTable
from orchestration.raw_schema import duckdb_type
from orchestration.source_reader import SourceContractError, registered

DROP_FORMATS = {".csv": "read_csv", ".parquet": "read_parquet"}


class FileContractError(SourceContractError):
    """A dropped file cannot be read or does not match its table's contract; the message names the file."""


class FileReader:
    """One dropped file, read whole: a file is an export, not the database's delta since a watermark."""

    # Merging a file's rows leaves the table's database watermark where it is.
    advances_watermark = False

    def __init__(self, path: Path) -> None:
        if path.suffix.lower() not in DROP_FORMATS:
            raise FileContractError(f"{path.name}: not a CSV or Parquet file (expected .csv or .parquet)")
        self.path = path

    def check_columns(self, table: SourceTable) -> list[str]:
        """Fail on a missing contract column; return the file's extra columns (reported, not loaded)."""
        present = self._query(f"SELECT * FROM {self._scan(table, all_varchar=True)} LIMIT 0").column_names
        missing = [name for name in table.column_names if name not in present]
        if missing:
            raise FileContractError(
                f"{self.path.name}: missing column(s) {missing} of table {table.name!r} (domain.md §1); "
                f"the file has {present}"
            )
        return [name for name in present if name not in table.column_names]

    def absence_note(self, table: SourceTable) -> str | None:
        return None  # a file lacking a declared column is refused by check_columns

    def read(self, table: SourceTable, *, updated_since: datetime | None = None) -> pa.Table:
        """Every row of the file, typed as the contract says (`updated_since` does not apply to a file)."""
        columns = ", ".join(f'CAST("{c.name}" AS {duckdb_type(c)}) AS "{c.name}"' for c in table.columns)
        return self._query(f"SELECT {columns} FROM {self._scan(table)}")

    def batch_in(
        self, con: duckdb.DuckDBPyConnection, table: SourceTable, *, updated_since: datetime | None = None
    ) -> AbstractContextManager[str]:
        """The file's rows, typed, as a relation of the loader's connection (BatchReader.batch_in)."""
        return registered(con, self.read(table))

    def _scan(self, table: SourceTable, *, all_varchar: bool = False) -> str:
        path = str(self.path).replace("'", "''")
        if self.path.suffix.lower() == ".parquet":
            return f"read_parquet('{path}')"
        if all_varchar:
            return f"read_csv('{path}', header = true, all_varchar = true)"
        types = ", ".join(f"'{c.name}': '{duckdb_type(c)}'" for c in table.columns)
        return f"read_csv('{path}', header = true, types = {{{types}}})"

    def _query(self, sql: str) -> pa.Table:
        with duckdb.connect() as con:
            try:
                return con.execute(sql).fetch_arrow_table()
            except duckdb.Error as error:
                raise FileContractError(
                    f"{self.path.name}: cannot be read as {self._kind}: {_first_lines(error)}"
                ) from error

    @property
    def _kind(self) -> str:
        return "Parquet" if self.path.suffix.lower() == ".parquet" else "CSV with a header row"


def _first_lines(error: duckdb.Error, count: int = 3) -> str:
    """DuckDB's CSV errors end with a page of sniffer settings; the first lines say what and where."""
    return " / ".join([line.strip() for line in str(error).splitlines() if line.strip()][:count])


class NothingDropped:
    """The batch of a table only file drops feed (fx_rates and marketing_spend beside 悟空CRM), in a run without
    its file: no rows. Merged as a file is, it leaves raw's rows and the watermark as they were, and creates the
    raw table on the first run, so dbt finds it (empty until a file brings rows) whatever was dropped."""

    advances_watermark = False

    def check_columns(self, table: SourceTable) -> list[str]:
        return []

    def absence_note(self, table: SourceTable) -> str | None:
        return None  # no file is expected: nothing is missing

    def read(self, table: SourceTable, *, updated_since: datetime | None = None) -> pa.Table:
        return pa.table({column.name: pa.array([], pa.null()) for column in table.columns})

    def batch_in(
        self, con: duckdb.DuckDBPyConnection, table: SourceTable, *, updated_since: datetime | None = None
    ) -> AbstractContextManager[str]:
        return registered(con, self.read(table))
