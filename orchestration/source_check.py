"""The CRM database, checked once when a run starts: there, reachable, readable, and with data by the as-of date.

Without it a source that is down fails every landing step in turn, each after its own retries (17 tables, about
half a minute each), and a SQLite path with a typo is reported as a missing table. The check itself retries
transient errors as the landing steps do (CRM_SOURCE_RETRIES), and never writes: a SQLite file is opened
read-only, so a wrong path is not created.

For a CRM that is not shaped as the contract (悟空CRM, Salesforce), the check also compares the database with the system's
declaration: a table or column the mapping needs and the database lacks stops the run here, naming the system,
the table and the columns, before any table is extracted (a landing step would find one table at a time, after
raw had taken the others). Tables and columns declared optional (Salesforce's forecasting_quota, currency_type,
dated_conversion_rate; opportunity.currency_iso_code; _fivetran_synced or system_modstamp, one of which, the
watermark, must be there) may be missing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from orchestration.source_reader import SQLITE_BUSY_TIMEOUT_SECONDS
from orchestration.source_system import CONTRACT, SALESFORCE, WUKONG, SourceSystem, source_system
from orchestration.source_url import masked
from orchestration.transient_errors import SourceRetries, SourceUnavailableError

# Seconds a server may take to answer a connection before the attempt counts as failed (and is retried).
_CONNECT_TIMEOUT_SECONDS = 10


class SourceCheckError(RuntimeError):
    """The CRM database cannot serve this run; the message names CRM_SOURCE_URL (password hidden) and what to check."""


def check_source(
    url: str,
    retries: SourceRetries,
    *,
    as_of: date | None,
    on_retry: Callable[[str], None] | None = None,
    system: str = CONTRACT,
) -> None:
    """Raise SourceCheckError (or SourceUnavailableError, after the retries) if a run could not read the CRM."""
    declared = source_system(system)
    shown = f"CRM_SOURCE_URL={masked(url)!r}"
    parsed = sa.engine.make_url(url)
    connect_args: dict[str, object] = {"connect_timeout": _CONNECT_TIMEOUT_SECONDS}
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "").resolve()
        if not path.is_file():
            raise SourceCheckError(
                f"{shown}: there is no file {path}; check the path (the pipeline reads the CRM "
                "database and never creates one)"
            )
        parsed = parsed.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"})
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    try:
        first_day, missing = retries.call(
            lambda: _inspect(parsed, connect_args, declared), what=shown, on_retry=on_retry
        )
    except SourceUnavailableError:
        raise
    except Exception as error:  # the driver's own words: a wrong password, database or file format
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SourceCheckError(
            f"{shown}: cannot read the CRM database ({reason}); check the URL, the user's "
            "password and rights, and that the database exists"
        ) from error
    if missing:
        raise SourceCheckError(
            f"{shown} (CRM_SOURCE_SYSTEM={declared.name}): the database is not {declared.label} as the pipeline "
            f"reads it: {'; '.join(missing)}. Nothing was extracted. Point CRM_SOURCE_URL at the CRM's own "
            "database, or set CRM_SOURCE_SYSTEM to the system it is (docs/sources.md lists what each system needs)"
        )
    if as_of is not None and first_day is not None and as_of < first_day:
        raise SourceCheckError(
            f"CRM_AS_OF_DATE={as_of.isoformat()} is before the CRM's first opportunity ({first_day.isoformat()}): "
            "there are no figures as of then. Use a later date, or unset CRM_AS_OF_DATE for today"
        )


# Where each system keeps its opportunities' creation time: the first one dates the CRM.
_FIRST_OPPORTUNITY = {
    CONTRACT: ("opportunities", "created_at"),
    WUKONG: ("wk_crm_business", "create_time"),
    SALESFORCE: ("opportunity", "created_date"),
}


def _inspect(
    url: sa.engine.URL, connect_args: dict[str, object], system: SourceSystem
) -> tuple[date | None, list[str]]:
    """The day the CRM's first opportunity was created (None without opportunities), and what the database lacks
    of the system's declaration, one entry per table ("table 'wk_crm_contract' lacks column(s) check_status").

    The contract's tables are not compared here: its landing steps name a missing table or column, as they did
    before systems were declared. The CRM's time is its own (悟空CRM's local time): a day is all this needs.
    """
    engine = sa.create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as con:
            inspector = sa.inspect(con)
            missing = [] if system.name == CONTRACT else _missing(inspector, system)
            table, column = _FIRST_OPPORTUNITY[system.name]
            if missing or not inspector.has_table(table):
                return None, missing
            first = con.execute(sa.text(f"select min({column}) from {table}")).scalar()
    finally:
        engine.dispose()
    return (None if first is None else date.fromisoformat(str(first)[:10])), missing


def _missing(inspector: sa.engine.Inspector, system: SourceSystem) -> list[str]:
    present_tables = set(inspector.get_table_names())
    missing = []
    for table in system.database_tables:
        if table.name not in present_tables:
            if not table.optional:  # an optional one lands empty, and its landing step says so
                missing.append(f"table {table.name!r} is missing (with its columns {', '.join(table.column_names)})")
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        lacking = [column.name for column in table.columns if column.name not in present and not column.optional]
        if lacking:
            missing.append(f"table {table.name!r} lacks column(s) {', '.join(lacking)}")
        elif table.watermark and not table.watermark_in(present):
            missing.append(f"table {table.name!r} lacks all of its watermark columns {', '.join(table.watermark)}")
    return missing
