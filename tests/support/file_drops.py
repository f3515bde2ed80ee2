"""Dropping files into a test folder's landing folder, as an export tool would."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

CUSTOMER_COLUMNS = (
    "customer_id, name, industry, city, province, region, level, source, owner_user_id, "
    "created_at, is_deleted, updated_at"
)


def drop(landing_dir: Path, name: str, content: str | bytes) -> Path:
    """Write a file into the landing folder as an upload that finished a minute ago."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    path = landing_dir / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    finished = time.time() - 60
    os.utime(path, (finished, finished))
    return path


def customers_export(warehouse_path: Path) -> tuple[str, list[tuple]]:
    """raw.customers as a CRM export: first customer renamed now, second renamed in an older version, one new."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        rows = con.execute(f"select {CUSTOMER_COLUMNS} from raw.customers order by customer_id limit 2").fetchall()
        new_id = con.execute("select max(customer_id) + 1 from raw.customers").fetchone()[0]
    header = CUSTOMER_COLUMNS.replace(" ", "")
    renamed, older = list(rows[0]), list(rows[1])
    renamed[1], renamed[-1] = "Renamed In Export Ltd", "2026-06-30 12:00:00"
    older[1], older[-1] = "Stale Export Name", "2020-01-01 00:00:00"
    new = [
        new_id,
        "Dropped File Co",
        "Retail",
        "Shanghai",
        "Shanghai",
        "East",
        "B",
        "referral",
        rows[0][8],
        "2026-06-29 09:00:00",
        False,
        "2026-06-29 09:00:00",
    ]
    lines = [header] + [",".join("" if v is None else str(v) for v in row) for row in (renamed, older, new)]
    return "\n".join(lines) + "\n", [tuple(renamed), tuple(older), tuple(new)]
