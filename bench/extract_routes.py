"""Measure extract routes on one CRM database: rows/s and peak memory of each, printed as a table.

    python bench/extract_routes.py --source /path/to/crm.sqlite [--routes ours,connectorx_only,sqlite3_arrow,sqlite_scanner]
                                   [--advanced /path/to/a/copy/advanced/by/a/few/days.sqlite]

Routes (bench/routes.py), each into a fresh DuckDB file:
- ours:            the product's loader (DuckDB's SQLite scanner, or connectorx → Arrow without its wheel;
                   land + merge, watermark in one transaction); with --advanced, then an incremental load of
                   that copy's delta
- connectorx_only: connectorx → Arrow, no warehouse write (the read cost alone)
- sqlite3_arrow:   Python's sqlite3 cursor → pyarrow → DuckDB (a plain hand-written loader, the floor
                   without a columnar reader)
- sqlite_scanner:  DuckDB's own SQLite scanner with the contract's casts (the benchmark's baseline route)
Each route runs in its own process; peak memory is that process tree's (bench/process_tree.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.process_tree import run_sampled  # noqa: E402
from bench.routes import ROUTES, duckdb_connection  # noqa: E402


def run_one(route: str, source: Path, advanced: Path | None, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        extra = {"advanced": advanced} if route == "ours" and advanced else {}
        with duckdb_connection(Path(tmp) / "wh.duckdb") as con:
            rows = ROUTES[route](con, source, **extra)
        seconds = time.perf_counter() - started
    out.write_text(
        json.dumps(
            {"route": route, "rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--routes", default="ours,connectorx_only,sqlite3_arrow,sqlite_scanner")
    parser.add_argument("--advanced", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.source.resolve(), args.advanced and args.advanced.resolve(), args.out)
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for route in args.routes.split(","):
            out = Path(tmp) / f"{route}.json"
            command = [sys.executable, __file__, "--source", str(args.source), "--one", route, "--out", str(out)]
            if args.advanced:
                command += ["--advanced", str(args.advanced)]
            trace = run_sampled(command)
            results.append({**json.loads(out.read_text()), "peak_mb": round(trace.peak_mb())})
    print(f"{'route':<18}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
    for r in results:
        print(f"{r['route']:<18}{r['rows']:>12,}{r['seconds']:>10}{r['rows_per_second']:>12,}{r['peak_mb']:>10,}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
