"""The CRM database, checked once when a run starts: there, reachable, readable, and with data by the as-of date.

Without it a source that is down fails every landing step in turn, each after its own retries (17 tables, about
half a minute each), and a SQLite path with a typo is reported as a missing table. The check itself retries
transient errors as the landing steps do (CRM_SOURCE_RETRIES), and never writes: a SQLite file is opened
read-only, so a wrong path is not created.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from orchestration.source_reader import SQLITE_BUSY_TIMEOUT_SECONDS
from orchestration.source_url import masked
from orchestration.transient_errors import SourceRetries, SourceUnavailableError

# Seconds a server may take to answer a connection before the attempt counts as failed (and is retried).
_CONNECT_TIMEOUT_SECONDS = 10


class SourceCheckError(RuntimeError):
    """The CRM database cannot serve this run; the message names CRM_SOURCE_URL (password hidden) and what to check."""


def check_source(
    url: str, retries: SourceRetries, *, as_of: date | None, on_retry: Callable[[str], None] | None = None
) -> None:
    """Raise SourceCheckError (or SourceUnavailableError, after the retries) if a run could not read the CRM."""
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
        first_day = retries.call(lambda: _first_opportunity_day(parsed, connect_args), what=shown, on_retry=on_retry)
    except SourceUnavailableError:
        raise
    except Exception as error:  # the driver's own words: a wrong password, database or file format
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SourceCheckError(
            f"{shown}: cannot read the CRM database ({reason}); check the URL, the user's "
            "password and rights, and that the database exists"
        ) from error
    if as_of is not None and first_day is not None and as_of < first_day:
        raise SourceCheckError(
            f"CRM_AS_OF_DATE={as_of.isoformat()} is before the CRM's first opportunity ({first_day.isoformat()}): "
            "there are no figures as of then. Use a later date, or unset CRM_AS_OF_DATE for today"
        )


def _first_opportunity_day(url: sa.engine.URL, connect_args: dict[str, object]) -> date | None:
    """The day the CRM's first opportunity was created; None without opportunities (the contract check names a
    missing table in its landing step)."""
    engine = sa.create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as con:
            if not sa.inspect(con).has_table("opportunities"):
                return None
            first = con.execute(sa.text("select min(created_at) from opportunities")).scalar()
    finally:
        engine.dispose()
    return None if first is None else date.fromisoformat(str(first)[:10])
