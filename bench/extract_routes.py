"""Measure extract routes on one CRM database: rows/s and peak memory of each, printed as a table.

    python bench/extract_routes.py --source /path/to/crm.sqlite [--routes ours,connectorx_only,sqlite3_arrow]
                                   [--advanced /path/to/a/copy/advanced/by/a/few/days.sqlite]

Routes, each into a fresh DuckDB file:
- ours:            the product's loader (connectorx → Arrow → DuckDB land + merge, watermark in one
                   transaction); with --advanced, then an incremental load of that copy's delta
- connectorx_only: connectorx → Arrow, no warehouse write (the read cost alone)
- sqlite3_arrow:   Python's sqlite3 cursor → pyarrow → DuckDB (a plain hand-written loader, the floor
                   without a columnar reader)
Each route runs in its own process so peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def route_ours(source: Path, warehouse: Path, advanced: Path | None = None) -> int:
    import duckdb

    from crm_contract import SOURCE_TABLES
    from orchestration.incremental_load import load_table
    from orchestration.source_reader import SourceReader

    with duckdb.connect(str(warehouse), config={"memory_limit": "4GB", "threads": 2}) as con:
        con.execute("SET TimeZone = 'UTC'")
        reader = SourceReader(f"sqlite:///{source}")
        rows = sum(load_table(con, reader, t, load_id="full")[0].rows_read for t in SOURCE_TABLES)
        if advanced is not None:
            started = time.perf_counter()
            reader = SourceReader(f"sqlite:///{advanced}")
            delta = sum(load_table(con, reader, t, load_id="delta")[0].rows_read for t in SOURCE_TABLES)
            print(json.dumps({"incremental_rows": delta, "incremental_seconds": round(time.perf_counter() - started, 2)}))
        return rows


def route_connectorx_only(source: Path, warehouse: Path) -> int:
    from crm_contract import SOURCE_TABLES
    from orchestration.source_reader import SourceReader

    reader = SourceReader(f"sqlite:///{source}")
    return sum(reader.read(t, updated_since=None).num_rows for t in SOURCE_TABLES)


def route_sqlite3_arrow(source: Path, warehouse: Path) -> int:
    import sqlite3

    import duckdb
    import pyarrow as pa

    from crm_contract import SOURCE_TABLES

    rows = 0
    with sqlite3.connect(source) as src, duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        for table in SOURCE_TABLES:
            cursor = src.execute(f"SELECT {', '.join(table.column_names)} FROM {table.name}")
            first = True
            while chunk := cursor.fetchmany(200_000):
                batch = pa.Table.from_pylist([dict(zip(table.column_names, r)) for r in chunk])
                con.register("chunk", batch)
                verb = f"CREATE TABLE raw.{table.name} AS" if first else f"INSERT INTO raw.{table.name}"
                con.execute(f"{verb} SELECT * FROM chunk")
                con.unregister("chunk")
                rows += len(chunk)
                first = False
    return rows


ROUTES = {"ours": route_ours, "connectorx_only": route_connectorx_only, "sqlite3_arrow": route_sqlite3_arrow}


def run_one(route: str, source: Path, advanced: Path | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        extra = {"advanced": advanced} if route == "ours" and advanced else {}
        rows = ROUTES[route](source, Path(tmp) / "wh.duckdb", **extra)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"route": route, "rows": rows, "seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds), "peak_mb": round(peak_mb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--routes", default="ours,connectorx_only,sqlite3_arrow")
    parser.add_argument("--advanced", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.source.resolve(), args.advanced and args.advanced.resolve())))
        return
    results = []
    for route in args.routes.split(","):
        command = [sys.executable, __file__, "--source", str(args.source), "--one", route]
        if args.advanced:
            command += ["--advanced", str(args.advanced)]
        lines = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()
        results.append(json.loads(lines[-1]))
        for line in lines[:-1]:
            print(f"{route}: {line}")
    print(f"{'route':<18}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
    for r in results:
        print(f"{r['route']:<18}{r['rows']:>12,}{r['seconds']:>10}{r['rows_per_second']:>12,}{r['peak_mb']:>10,}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
