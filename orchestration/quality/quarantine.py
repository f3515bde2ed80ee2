"""raw._quarantine: the rows of raw that break a WARN rule, with the rule, so none is dropped silently.

The rows stay in raw (the marts decide how to treat them); this table lists them. It always describes the
latest version of each row: when a batch brings a key again, its old entries go and the new version is
judged again. Written only when gate 1 lets the run through, so it never lists rows raw does not hold.
"""

from __future__ import annotations

from datetime import datetime

from orchestration.quality.gate_config import Severity
from orchestration.quality.validation import RuleOutcome
from orchestration.raw_schema import LANDING_SCHEMA, RAW_SCHEMA
from orchestration.warehouse_sql import SqlSession, scalar

QUARANTINE_TABLE = f"{RAW_SCHEMA}._quarantine"


def ensure_quarantine_table(session: SqlSession) -> None:
    session.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (table_name VARCHAR, primary_key VARCHAR, rule VARCHAR, "
        "severity VARCHAR, load_id VARCHAR, detected_at TIMESTAMP)"
    )


def quarantine(
    session: SqlSession,
    outcomes: list[RuleOutcome],
    *,
    full_refresh_tables: frozenset[str],
    load_id: str,
    detected_at: datetime,
) -> dict[tuple[str, str], int]:
    """Record the rows of the failed WARN rules among `outcomes` (all of a gate's, so that every table's
    entries are judged again); the number of rows listed this run, by (table, rule)."""
    ensure_quarantine_table(session)
    counts = {}
    with session.transaction():
        for suite in {outcome.suite.table: outcome.suite for outcome in outcomes}.values():
            _forget_rows_judged_again(session, suite.table, suite.key, suite.table in full_refresh_tables)
        for outcome in outcomes:
            if outcome.passed or outcome.row_query is None or outcome.severity is not Severity.WARN:
                continue
            table, rule = outcome.suite.table, outcome.rule.name
            # A table-level rule can name rows outside the batch that are listed already.
            session.execute(
                f"INSERT INTO {QUARANTINE_TABLE} SELECT ?, primary_key, ?, ?, ?, ? FROM "
                f"(SELECT DISTINCT {session.key_text(outcome.suite.key)} AS primary_key FROM ({outcome.row_query}) "
                "AS rule_rows) AS failing WHERE NOT EXISTS (SELECT 1 FROM "
                f"{QUARANTINE_TABLE} AS listed WHERE listed.table_name = ? "
                "AND listed.rule = ? AND listed.primary_key = failing.primary_key)",
                [table, rule, outcome.severity.value, load_id, detected_at, table, rule],
            )
            counts[(table, rule)] = scalar(
                session,
                f"SELECT count(*) FROM {QUARANTINE_TABLE} WHERE table_name = ? AND rule = ? AND load_id = ?",
                [table, rule, load_id],
            )
    return counts


def _forget_rows_judged_again(session: SqlSession, table: str, key: tuple[str, ...], full_refresh: bool) -> None:
    if full_refresh:
        session.execute(f"DELETE FROM {QUARANTINE_TABLE} WHERE table_name = ?", [table])
    else:
        session.execute(
            f"DELETE FROM {QUARANTINE_TABLE} WHERE table_name = ? AND primary_key IN "
            f"(SELECT {session.key_text(key)} FROM {LANDING_SCHEMA}.{table})",
            [table],
        )
