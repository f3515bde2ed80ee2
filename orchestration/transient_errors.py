"""Retrying source reads that fail for a moment: a CRM database that is locked, restarting or unreachable.

Only errors that go away by themselves are retried; anything else (a missing table, a wrong type) fails at
once, because waiting would not fix it. Each retry waits twice as long as the one before, so a database that
is locked for a few seconds costs a few seconds, and one that is down fails the run within a minute or so
with an error that names the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# Lower-case fragments of the drivers' messages (SQLite, psycopg2/libpq, PyMySQL, connectorx) for errors
# that are worth waiting out.
TRANSIENT_MARKERS = (
    "database is locked",
    "database table is locked",
    "connection refused",
    "could not connect to server",
    "connection reset by peer",
    "server closed the connection unexpectedly",
    "the database system is starting up",
    "the database system is shutting down",
    "too many connections",
    "can't connect to mysql server",
    "lost connection to mysql server",
    "timed out",
)


class SourceUnavailableError(RuntimeError):
    """The CRM database stayed unavailable through every retry; the message names the table and the fix."""


def is_transient(error: BaseException) -> bool:
    """Whether the error, or any error it was raised from, is one that goes away by itself."""
    seen: BaseException | None = error
    while seen is not None:
        if any(marker in str(seen).lower() for marker in TRANSIENT_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class SourceRetries:
    """How often and how patiently a transient source error is retried (CRM_SOURCE_RETRIES, CRM_SOURCE_RETRY_SECONDS)."""

    retries: int = 4
    first_delay_seconds: float = 2.0

    def call(self, action: Callable[[], T], *, what: str, on_retry: Callable[[str], None] | None = None) -> T:
        """Run `action`, retrying transient errors with exponential backoff; `what` names the table in messages."""
        started = time.monotonic()
        delay = self.first_delay_seconds
        attempt = 1
        while True:
            try:
                return action()
            except Exception as error:
                if not is_transient(error):
                    raise
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                if attempt > self.retries:
                    raise SourceUnavailableError(
                        f"{what}: the CRM database was still unavailable after {attempt} attempt(s) over "
                        f"{time.monotonic() - started:.0f} s ({reason}); check that it is up and reachable at "
                        "CRM_SOURCE_URL, then re-run (CRM_SOURCE_RETRIES sets how many retries)"
                    ) from error
                if on_retry is not None:
                    on_retry(f"{what}: {reason}; retry {attempt} of {self.retries} in {delay:.1f} s")
                time.sleep(delay)
                delay *= 2
                attempt += 1
