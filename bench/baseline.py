"""The bare engine doing the pipeline's work: what a full crm_elt run would cost without the pipeline.

    python -m bench.baseline --source crm.sqlite --manifest compiled/manifest.json --warehouse DIR/warehouse.duckdb
                             --published DIR/published.duckdb --out timings.json

In one plain DuckDB connection, timed as the pipeline's stages are:
- extract: every source table read by DuckDB's SQLite scanner, cast to the contract's types (bench/routes.py);
- dbt: every seed and model of the manifest, in dependency order, as CREATE TABLE / CREATE VIEW of the SQL
  `dbt compile` wrote for it (no tests, no contracts, no dbt process);
- publish: the published models copied to a new file (the same statements as orchestration/publish.py).
There are no quality gates. The warehouse file must have the same name (DuckDB's catalog) as the one the
manifest was compiled against, because compiled SQL names relations "<catalog>"."<schema>"."<name>".
"""

from __future__ import annotations

import argparse
import json
import time
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb

from bench.routes import duckdb_connection, route_sqlite_scanner
from orchestration.publish import publish_models
from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_STORAGE_VERSION  # our publish format and limits

_BUILT = ("model", "seed", "snapshot")


def build_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Seeds, snapshots and models, each after everything it selects from."""
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in _BUILT}
    graph = {uid: [d for d in n.get("depends_on", {}).get("nodes", []) if d in nodes] for uid, n in nodes.items()}
    return [nodes[uid] for uid in TopologicalSorter(graph).static_order()]


def build_node(con: duckdb.DuckDBPyConnection, node: dict[str, Any]) -> None:
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{node["schema"]}"')
    if node["resource_type"] == "seed":
        path = Path(node["root_path"]) / node["original_file_path"]
        types = node["config"].get("column_types") or {}
        type_map = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"
        con.execute(
            f"CREATE TABLE {node['relation_name']} AS SELECT * FROM read_csv('{path}', header = true, types = {type_map})"
        )
        return
    if node["resource_type"] == "snapshot":  # a first snapshot: every row, one version, valid from updated_at
        updated_at, key = node["config"]["updated_at"], node["config"]["unique_key"]
        con.execute(
            f"CREATE TABLE {node['relation_name']} AS SELECT *, "
            f"md5(CAST({key} AS VARCHAR) || '|' || CAST({updated_at} AS VARCHAR)) AS dbt_scd_id, "
            f"{updated_at} AS dbt_updated_at, {updated_at} AS dbt_valid_from, CAST(NULL AS TIMESTAMP) AS dbt_valid_to "
            f"FROM ({node['compiled_code']})"
        )
        return
    kind = "VIEW" if node["config"]["materialized"] == "view" else "TABLE"
    con.execute(f"CREATE {kind} {node['relation_name']} AS {node['compiled_code']}")


def published_models(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (n["schema"], n["name"])
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("meta", {}).get("published")
    )


def run_baseline(
    source: Path, manifest_path: Path, warehouse: Path, published: Path, *, memory_limit: str, threads: int
) -> dict[str, Any]:
    manifest = json.loads(manifest_path.read_text())
    stages: dict[str, dict[str, float]] = {}

    def timed(stage: str, work):
        started_at, started = time.time(), time.perf_counter()
        value = work()
        stages[stage] = {
            "seconds": round(time.perf_counter() - started, 3),
            "started_at": started_at,
            "ended_at": time.time(),
        }
        return value

    warehouse.unlink(missing_ok=True)
    with duckdb_connection(warehouse, memory_limit=memory_limit, threads=threads) as con:
        rows = timed("extract", lambda: route_sqlite_scanner(con, source))
        timed("dbt", lambda: [build_node(con, node) for node in build_order(manifest)])
        publish = timed(
            "publish", lambda: publish_models(con, published_models(manifest), published, DEFAULT_STORAGE_VERSION)
        )
    return {"rows_read": rows, "stages": stages, "published_row_counts": publish.row_counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("source", "manifest", "warehouse", "published", "out"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    parser.add_argument("--memory-limit", default=DEFAULT_DUCKDB_MEMORY_LIMIT)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    result = run_baseline(
        args.source, args.manifest, args.warehouse, args.published, memory_limit=args.memory_limit, threads=args.threads
    )
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
