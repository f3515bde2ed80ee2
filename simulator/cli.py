"""crm-simulator: generate a CRM database, advance its clock, or inject dirty data into it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from simulator.advance import advance
from simulator.defects import ALL_DEFAULT_TABLES, ALL_DEFECTS, inject
from simulator.generate import SYSTEMS, WUKONG_TIMEZONE, generate

DEFAULT_URL = "sqlite:///data/crm.sqlite"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm-simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "--url", default=DEFAULT_URL, help=f"SQLAlchemy URL of the CRM database (default: {DEFAULT_URL})"
        )
        return sub

    gen = command("generate", "write a new CRM history of 24 months")
    gen.add_argument(
        "--opportunities", type=int, default=10_000, help="scale: number of opportunities (default: 10000)"
    )
    gen.add_argument("--seed", type=int, default=42, help="same seed, same rows (default: 42)")
    gen.add_argument("--end-date", type=date.fromisoformat, help="last simulated day, YYYY-MM-DD (default: today, UTC)")
    gen.add_argument("--replace", action="store_true", help="overwrite the CRM tables if the database already has them")
    gen.add_argument(
        "--defect",
        action="append",
        default=[],
        choices=ALL_DEFECTS,
        help="inject this defect afterwards (repeatable)",
    )
    gen.add_argument(
        "--system",
        choices=SYSTEMS,
        default="contract",
        help="table shape: contract (default), wukong (悟空CRM 11's wk_ tables; implies --wukong-compatible) or "
        "salesforce (a Salesforce org as Fivetran syncs it; implies --salesforce-compatible)",
    )
    gen.add_argument(
        "--wukong-compatible",
        action="store_true",
        help="restrict the business to what 悟空CRM can hold (simulator/README.md): with the same seed and "
        "arguments, the contract tables describe the business a --system wukong database holds",
    )
    gen.add_argument(
        "--salesforce-compatible",
        action="store_true",
        help="restrict the business to what Salesforce can hold (simulator/README.md): with the same seed and "
        "arguments, the contract tables describe the business a --system salesforce database holds",
    )
    gen.add_argument(
        "--timezone",
        default=WUKONG_TIMEZONE,
        help=f"悟空CRM's local time zone, in which its tables hold times (default: {WUKONG_TIMEZONE})",
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar")

    adv = command("advance", "simulate more days on an existing database")
    adv.add_argument("--days", type=int, default=1, help="days to simulate (default: 1)")
    adv.add_argument("--seed", type=int, help="override the seed the database was generated with")

    inj = command("inject", "write one kind of dirty data into an existing database")
    inj.add_argument("--defect", required=True, choices=ALL_DEFECTS)
    inj.add_argument(
        "--table",
        help="table to damage (default depends on the defect: "
        + ", ".join(f"{d}: {t}" for d, t in ALL_DEFAULT_TABLES.items())
        + ")",
    )
    inj.add_argument("--column", help="column to damage, where the defect concerns one")
    inj.add_argument("--count", type=int, default=5, help="rows to damage (default: 5)")
    inj.add_argument("--seed", type=int, default=0, help="chooses the rows (default: 0)")
    return parser


def _ensure_sqlite_folder(url: str) -> None:
    """sqlite:///data/crm.sqlite should work in a fresh checkout, where data/ does not exist yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            _ensure_sqlite_folder(args.url)
            print(
                generate(
                    args.url,
                    opportunities=args.opportunities,
                    seed=args.seed,
                    end_date=args.end_date,
                    quiet=args.quiet,
                    replace=args.replace,
                    defects=args.defect,
                    system=args.system,
                    wukong_compatible=args.wukong_compatible,
                    salesforce_compatible=args.salesforce_compatible,
                    timezone=args.timezone,
                )
            )
        elif args.command == "advance":
            print(advance(args.url, args.days, seed=args.seed))
        else:
            injected = inject(
                args.url, args.defect, table=args.table, count=args.count, seed=args.seed, column=args.column
            )
            print(f"{injected.defect} in {injected.table}: {injected.description}")
            for key in injected.keys:
                print("  key", ", ".join(map(str, key)))
    except (FileExistsError, LookupError, ValueError) as error:
        print(f"crm-simulator: {error}", file=sys.stderr)
        return 2
    return 0
