"""The benchmark's results as text tables: one per scale, stages down, runs across."""

from __future__ import annotations

from typing import Any


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}{unit}" if value < 10 else f"{value:,.0f}{unit}"


def print_report(results: dict[str, Any]) -> None:
    m = results["machine_before"]
    print(
        f"\nmachine: {m['cpus']} CPUs, {m['memory_gb']} GB; load average before {m['load_average']}, "
        f"after {results['machine_after']['load_average']}"
    )
    for scale in results["scales"]:
        full, incremental, baseline = scale["full"], scale["incremental"], scale.get("baseline")
        ratios = scale.get("ours_over_baseline", {})
        print(f"\n{scale['scale']} opportunities ({full['rows_read']:,} source rows, as of {scale['as_of_date']})")
        print(
            f"{'stage':<10}{'full s':>9}{'peak MB':>9}{'incr s':>9}{'share':>7}{'peak MB':>9}"
            f"{'base s':>9}{'peak MB':>9}{'ours/base':>10}"
        )
        for stage in [*full["stages"], "total"]:
            f = full["total"] if stage == "total" else full["stages"][stage]
            i = incremental["total"] if stage == "total" else incremental["stages"][stage]
            b = (baseline["total"] if stage == "total" else baseline["stages"].get(stage)) if baseline else None
            print(
                f"{stage:<10}{_number(f['seconds']):>9}{_number(f['peak_mb']):>9}{_number(i['seconds']):>9}"
                f"{_number(incremental['share_of_full'][stage] and incremental['share_of_full'][stage] * 100, '%'):>7}"
                f"{_number(i['peak_mb']):>9}{_number(b and b['seconds']):>9}{_number(b and b['peak_mb']):>9}"
                f"{_number(ratios.get(stage), '×'):>10}"
            )
        print(
            f"extract rows/s: full {_number(full['extract_rows_per_second'])}, incremental "
            f"{_number(incremental['extract_rows_per_second'])} ({incremental['rows_read']:,} rows)"
            + (f", baseline {_number(baseline['extract_rows_per_second'])}" if baseline else "")
        )
        print(
            f"files: warehouse {full['warehouse_bytes'] / 1e6:,.1f} MB after the full run, "
            f"{incremental['warehouse_bytes'] / 1e6:,.1f} MB after the incremental; published "
            f"{incremental['published_bytes'] / 1e6:,.1f} MB; source {scale['source_bytes'] / 1e6:,.1f} MB"
        )
        for run in ("full", "incremental"):
            if breakdown := scale[run].get("dbt_breakdown"):
                kinds = ", ".join(
                    f"{kind} {v['seconds']:,.1f} s ({v['nodes']})" for kind, v in breakdown["by_resource_type"].items()
                )
                print(
                    f"dbt ({run}): step {scale[run]['stages']['dbt']['seconds']:,.1f} s, dbt elapsed "
                    f"{breakdown['elapsed_seconds']:,.1f} s; node time summed over threads: {kinds}"
                )
        if repeats := scale.get("repeats"):
            print(
                "repeats (total s; the table shows each run's median): "
                + "; ".join(f"{run} " + ", ".join(_number(r[run]) for r in repeats) for run in repeats[0])
            )
        print(
            "targets: "
            + "; ".join(
                f"{name} {t['value']} ({'≤' if name != 'extract_rows_per_second' else '≥'} {t['limit']}) "
                f"{'met' if t['met'] else 'MISSED' if t['met'] is not None else 'n/a'}"
                for name, t in scale["targets"].items()
            )
        )
