"""raw._quarantine: the rows of raw that break a WARN rule, with the rule, so none is dropped silently.

The rows stay in raw (the marts decide how to treat them); this table lists them. It always describes the
latest version of each row: when a batch brings a key again, its old entries go and the new version is
judged again. Written only when gate 1 lets the run through, so it never lists rows raw does not hold.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from orchestration.incremental_load import LANDING_SCHEMA
from orchestration.quality.gate_config import Severity
from orchestration.quality.validation import RuleOutcome
from orchestration.raw_schema import RAW_SCHEMA

QUARANTINE_TABLE = f"{RAW_SCHEMA}._quarantine"


def key_text(key: tuple[str, ...]) -> str:
    """A row key as text, as raw._hard_deletes writes it: {'opportunity_id': 42}."""
    return "CAST(struct_pack(" + ", ".join(f'"{k}" := "{k}"' for k in key) + ") AS VARCHAR)"


def ensure_quarantine_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (table_name VARCHAR, primary_key VARCHAR, rule VARCHAR, "
        "severity VARCHAR, load_id VARCHAR, detected_at TIMESTAMP)"
    )


def quarantine(
    con: duckdb.DuckDBPyConnection,
    outcomes: list[RuleOutcome],
    *,
    full_refresh_tables: frozenset[str],
    load_id: str,
    detected_at: datetime,
) -> dict[tuple[str, str], int]:
    """Record the rows of the failed WARN rules among `outcomes` (all of a gate's, so that every table's
    entries are judged again); the number of rows listed this run, by (table, rule)."""
    ensure_quarantine_table(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for suite in {outcome.suite.table: outcome.suite for outcome in outcomes}.values():
            _forget_rows_judged_again(con, suite.table, suite.key, suite.table in full_refresh_tables)
        counts = {}
        for outcome in outcomes:
            if outcome.passed or outcome.row_query is None or outcome.severity is not Severity.WARN:
                continue
            table, rule = outcome.suite.table, outcome.rule.name
            # A table-level rule can name rows outside the batch that are listed already.
            con.execute(
                f"INSERT INTO {QUARANTINE_TABLE} SELECT ?, primary_key, ?, ?, ?, ? FROM "
                f"(SELECT DISTINCT {key_text(outcome.suite.key)} AS primary_key FROM ({outcome.row_query})) AS failing "
                f"WHERE NOT EXISTS (SELECT 1 FROM {QUARANTINE_TABLE} AS listed WHERE listed.table_name = ? "
                "AND listed.rule = ? AND listed.primary_key = failing.primary_key)",
                [table, rule, outcome.severity.value, load_id, detected_at, table, rule],
            )
            counts[(table, rule)] = con.execute(
                f"SELECT count(*) FROM {QUARANTINE_TABLE} WHERE table_name = ? AND rule = ? AND load_id = ?",
                [table, rule, load_id],
            ).fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def _forget_rows_judged_again(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], full_refresh: bool) -> None:
    if full_refresh:
        con.execute(f"DELETE FROM {QUARANTINE_TABLE} WHERE table_name = ?", [table])
    else:
        con.execute(
            f"DELETE FROM {QUARANTINE_TABLE} WHERE table_name = ? AND primary_key IN "
            f"(SELECT {key_text(key)} FROM {LANDING_SCHEMA}.{table})",
            [table],
        )
