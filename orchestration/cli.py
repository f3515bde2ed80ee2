"""`crm-warehouse`: prepare the dbt manifest, run the crm_elt job, or do both on a simulated CRM (demo).

The job runs in this process against the Dagster instance in DAGSTER_HOME, so its history shows up in
`dagster dev` afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from orchestration.dbt_project import prepare_dbt_manifest
from orchestration.settings import PROJECT_ROOT, Settings, SettingsError
from orchestration.source_check import SourceCheckError, check_source
from orchestration.transient_errors import SourceRetries, SourceUnavailableError

if TYPE_CHECKING:
    import dagster as dg

DEMO_OPPORTUNITIES = 5_000
SHIPPED_INSTANCE_YAML = PROJECT_ROOT / "deploy" / "dagster.yaml"
# Step-level INFO lines on the console; the full DEBUG event log stays in the run history.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def ensure_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with the project's instance settings (pools, run limits, run launcher) on first use.

    An existing dagster.yaml is never overwritten (an operator may have tuned it), so a setting the project
    changed would never reach it: say so, with the command that takes the project's settings.
    """
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    instance_yaml = settings.dagster_home / "dagster.yaml"
    if not instance_yaml.exists():
        shutil.copy(SHIPPED_INSTANCE_YAML, instance_yaml)
    elif differing := settings_differing(instance_yaml, SHIPPED_INSTANCE_YAML):
        print(
            f"note: {instance_yaml} differs from the project's {SHIPPED_INSTANCE_YAML} in: {', '.join(differing)}; "
            f"to take the project's settings: cp {SHIPPED_INSTANCE_YAML} {instance_yaml}",
            file=sys.stderr,
        )
    return settings.dagster_home


def settings_differing(instance_yaml: Path, shipped_yaml: Path) -> list[str]:
    """The top-level sections whose values differ (comments and layout aside)."""
    ours, shipped = (yaml.safe_load(path.read_text()) or {} for path in (instance_yaml, shipped_yaml))
    return sorted(key for key in ours.keys() | shipped.keys() if ours.get(key) != shipped.get(key))


def run_job(*, full_refresh: bool) -> bool:
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.names import FULL_REFRESH_TAG

    tags = {FULL_REFRESH_TAG: "true"} if full_refresh else {}
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("crm_elt").execute_in_process(
            instance=instance, tags=tags, raise_on_error=False, run_config=QUIET_CONSOLE
        )
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        where = f"at: {', '.join(failed)}" if failed else f"before any step: {_run_failure_cause(result)}"
        print(f"crm_elt failed {where} (run id {result.run_id})", file=sys.stderr)
    return result.success


def _run_failure_cause(result: dg.ExecuteInProcessResult) -> str:
    """What stopped a run before its steps (a resource that could not start): the first error under Dagster's own."""
    import dagster as dg

    errors = [
        event.event_specific_data.error
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.RUN_FAILURE and event.event_specific_data.error
    ]
    error = errors[0] if errors else None
    while error is not None and error.cls_name.startswith("Dagster") and error.cause is not None:
        error = error.cause
    if error is None:
        return "see the run in dagster dev"
    text, marker = error.message.strip(), f"{error.cls_name}: "
    return text.split(marker, 1)[1] if marker in text else text


def print_headlines(published_path: Path) -> None:
    import duckdb

    from orchestration.dashboard.asset import dashboard_dir_of
    from orchestration.dashboard.panels import team_pacing
    from orchestration.publish import parquet_dir_of

    with duckdb.connect(str(published_path), read_only=True) as con:
        totals = con.execute(
            """
            select
                (select count(*) from marts.fct_opportunities) as opportunities,
                (select sum(case when is_won then 1 else 0 end) * 1.0
                   / nullif(sum(case when is_closed then 1 else 0 end), 0) from marts.fct_opportunities) as win_rate,
                (select sum(amount) from marts.fct_contracts) as contract_amount,
                (select sum(receivable_amount) from marts.mart_receivables_aging where days_overdue > 0) as overdue
            """
        ).fetchone()
        funnel = con.execute(
            "select stage, opportunities_reached, stage_conversion_rate from marts.mart_sales_funnel order by stage_order"
        ).fetchall()
        team = team_pacing(con)
    opportunities, win_rate, contract_amount, overdue = totals
    print(f"\nPublished warehouse: {published_path}")
    print(
        f"  opportunities {opportunities:,}   win rate {win_rate or 0:.1%}   "
        f"contracts signed {contract_amount or 0:,.0f}   overdue receivables {overdue or 0:,.0f}"
    )
    print(
        "  funnel: "
        + "  →  ".join(
            f"{stage} {reached:,}" + (f" ({rate:.0%})" if rate is not None else "") for stage, reached, rate in funnel
        )
    )
    print(f"  {team_pacing_line(team)}")
    print(f"  dashboard (open in a browser, works offline): {dashboard_dir_of(published_path) / 'index.html'}")
    print(f"  every published model as Parquet: {parquet_dir_of(published_path)}/<model>.parquet")
    print(
        f'\nQuery it read-only: .venv/bin/python -c "import duckdb; '
        f"print(duckdb.connect('{published_path}', read_only=True).sql('show all tables'))\""
    )


def team_pacing_line(team: dict) -> str:
    """The demo's line on the month: the team's pace against its targets and the pipeline due to close the gap."""
    if not team["reps"]:
        return "pacing: no rep has a contract-amount target this month"

    def percent(value: object) -> str:
        return "–" if value is None else f"{float(value):.0%}"

    return (
        f"pacing {str(team['month_start'])[:7]} (day {team['elapsed_days']} of {team['days_in_month']}, "
        f"{team['reps']:,} reps with a target): {percent(team['pacing_ratio'])} of the linear pace, "
        f"coverage {percent(team['coverage_ratio'])} of the remaining target by pipeline due this month"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-warehouse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "prepare",
        help="parse the dbt project for the current settings (CRM_SOURCE_SYSTEM among them): writes "
        "dbt_project/target/manifest.json (target/<system>/ for a system other than the contract)",
    )
    run = commands.add_parser("run", help="run the crm_elt job once")
    run.add_argument(
        "--full-refresh", action="store_true", help="re-extract every table and rebuild incremental models"
    )
    demo = commands.add_parser("demo", help="simulate a CRM (if none yet), run crm_elt, print headline figures")
    demo.add_argument("--opportunities", type=int, default=DEMO_OPPORTUNITIES)
    demo.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    # Both messages name the variable and the fix, and nothing has started yet: a traceback would only bury them.
    try:
        return _command(args)
    except SettingsError as error:
        print(f"crm-warehouse: {error}", file=sys.stderr)
        return 2
    except (SourceCheckError, SourceUnavailableError) as error:
        print(f"crm-warehouse: {error}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    settings.export_to_environment()
    settings.create_warehouse_folder()
    ensure_dagster_home(settings)
    if args.command == "demo":
        simulated = settings.data_dir / "crm.sqlite"
        if settings.source_url == f"sqlite:///{simulated}" and not simulated.exists():
            import simulator

            settings.data_dir.mkdir(parents=True, exist_ok=True)
            print(f"simulating a CRM with {args.opportunities:,} opportunities → {simulated}")
            # in the shape CRM_SOURCE_SYSTEM reads (悟空CRM's local times in CRM_SOURCE_TIMEZONE)
            simulator.generate(
                settings.source_url,
                opportunities=args.opportunities,
                seed=args.seed,
                system=settings.source_system,
                timezone=settings.source_timezone,
            )
    if args.command != "prepare":
        # The job checks the source too, when it starts; checking here first spares the start of Dagster and
        # its log when the source cannot serve the run.
        check_source(
            settings.source_url,
            SourceRetries(settings.source_retries, settings.source_retry_seconds),
            as_of=settings.as_of_date,
            on_retry=lambda message: print(message, file=sys.stderr),
            system=settings.source_system,
        )
    print(f"manifest: {prepare_dbt_manifest()}")
    if args.command == "prepare":
        return 0
    if not run_job(full_refresh=getattr(args, "full_refresh", False)):
        return 1
    from orchestration.definitions import defs

    warehouse = defs.resources["warehouse"].for_target()
    if warehouse.has_duckdb_file:
        print_headlines(settings.published_path)
    else:
        print(f"\nPublished: {warehouse.published_where()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
