"""Reading the CRM's own database into Arrow, in bulk.

connectorx reads SQLite, PostgreSQL and MySQL/MariaDB straight into Arrow columns (no Python objects per
row), which is what makes the extract fast; SQLAlchemy is used only to look at the source's columns.
The README's "Extract" section has the measurements behind this choice.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from crm_contract import SourceTable

_CONNECTORX_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql",
                       "mysql": "mysql", "mariadb": "mysql"}


class SourceContractError(RuntimeError):
    """The CRM database does not match domain.md §1; the message names the table and what is wrong."""


class SourceReader:
    def __init__(self, url: str) -> None:
        self.url = url
        self._connectorx_url = _connectorx_url(url)

    def check_columns(self, table: SourceTable) -> list[str]:
        """Fail on a missing contract column; return the source's extra columns (reported, not loaded)."""
        engine = sa.create_engine(self.url)
        try:
            inspector = sa.inspect(engine)
            if not inspector.has_table(table.name):
                raise SourceContractError(
                    f"source table {table.name!r} does not exist in {_safe_url(self.url)} (domain.md §1 requires it)"
                )
            present = [c["name"] for c in inspector.get_columns(table.name)]
        finally:
            engine.dispose()
        missing = [name for name in table.column_names if name not in present]
        if missing:
            raise SourceContractError(
                f"source table {table.name!r} is missing contract column(s) {missing}: "
                "restore them in the CRM database (domain.md §1) before the next run"
            )
        return [name for name in present if name not in table.column_names]

    def read(self, table: SourceTable, *, updated_since: datetime | None) -> pa.Table:
        """Rows changed at or after `updated_since` (all rows when None), contract columns only."""
        import connectorx

        columns = ", ".join(f'"{name}"' if self._quote_double else f"`{name}`" for name in table.column_names)
        query = f"SELECT {columns} FROM {table.name}"
        if updated_since is not None:
            # connectorx takes no bind parameters; the literal is a formatted datetime, never user text.
            query += f" WHERE updated_at >= '{updated_since.strftime('%Y-%m-%d %H:%M:%S.%f')}'"
        try:
            return connectorx.read_sql(self._connectorx_url, query, return_type="arrow")
        except Exception as error:  # connectorx raises bare RuntimeErrors; add the table name
            raise SourceContractError(f"reading source table {table.name!r} failed: {error}") from error

    @property
    def _quote_double(self) -> bool:
        return not self._connectorx_url.startswith("mysql")


def _connectorx_url(url: str) -> str:
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _CONNECTORX_SCHEMES:
        raise SourceContractError(
            f"CRM_SOURCE_URL uses {backend!r}; supported: sqlite, postgresql, mysql/mariadb"
        )
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SourceContractError("CRM_SOURCE_URL must point at a SQLite file, not an in-memory database")
        # connectorx needs an absolute path ("no such table" otherwise).
        return "sqlite://" + str(Path(parsed.database).resolve())
    return parsed.set(drivername=_CONNECTORX_SCHEMES[backend]).render_as_string(hide_password=False)


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)
