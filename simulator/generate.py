"""A whole CRM history in one go: 24 months of a growing sales organisation, up to an end date.

Opportunities are the unit of scale. The skeleton (when each account and deal is opened) is laid out
for the whole period first, a few arrays per deal; the deals' lives and everything hanging off them
are then played in chunks, so memory stays bounded at millions of deals.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection
from tqdm import tqdm

from simulator.accounts import account_activity_rows, contact_rows, customer_rows, first_deals, pick_buying_accounts
from simulator.catalogue import BUSINESS_GROWTH, RENEWALS_PER_WIN
from simulator.contracts import contracts_from_wins, renewal_contracts
from simulator.deals import new_deals
from simulator.defects import defects_of, inject
from simulator.draws import Draws
from simulator.organisation import build_organisation, build_products
from simulator.periodic import fx_rates, growth_factor, marketing_spend, sales_targets
from simulator.salesforce import (
    Translation as SalesforceTranslation,
)
from simulator.salesforce import (
    build_salesforce_metadata,
    contracts_of_won_opportunities,
    create_salesforce_indexes,
    salesforce_table_names,
    salesforce_writer,
)
from simulator.schema import build_metadata, create_indexes, existing_tables
from simulator.state import SimulatorState
from simulator.summary import SimulationSummary
from simulator.timeline import DAY, Window, add_months, day_number, growing_days, mostly_weekdays, to_date, working_time
from simulator.world import CURRENCY_CODES, Customers, FxRates, World, indexes_of, single_currency_fx
from simulator.writer import Batch, Writer, bulk_loading
from simulator.wukong import (
    Translation,
    build_wukong_metadata,
    create_wukong_indexes,
    wukong_table_names,
    wukong_writer,
)

SYSTEMS = ("contract", "wukong", "salesforce")
WUKONG_TIMEZONE = "Asia/Shanghai"

PERIOD_MONTHS = 24
_ACCOUNTS_BEFORE_PERIOD = 0.25  # accounts the CRM already held when the period starts
_ACCOUNT_HISTORY_DAYS = 3 * 365
_DEALS_PER_CHUNK = 20_000
_ACCOUNTS_PER_CHUNK = 50_000
_PAYMENT_TARGET_SHARE = 0.85


@dataclass(frozen=True)
class Scale:
    """Row counts that follow from the number of opportunities."""

    opportunities: int
    customers: int
    users: int
    products: int

    @classmethod
    def of(cls, opportunities: int) -> Scale:
        if opportunities < 1:
            raise ValueError(f"opportunities must be at least 1, got {opportunities}")
        return cls(
            opportunities=opportunities,
            customers=max(10, round(opportunities / 4)),
            users=int(np.clip(opportunities // 1000, 8, 1000)),
            products=int(np.clip(20 + opportunities // 20_000, 20, 50)),
        )


def _prepare(connection: Connection, url: str, replace: bool) -> None:
    present = set(inspect(connection).get_table_names())
    found = existing_tables(connection) + [
        name for name in (*wukong_table_names(), *salesforce_table_names()) if name in present
    ]
    if found and not replace:
        raise FileExistsError(
            f"{url} already holds CRM tables ({', '.join(found[:4])}{', ...' if len(found) > 4 else ''}); "
            "pass replace=True (--replace) to overwrite them, or `advance` it instead"
        )
    quote = connection.dialect.identifier_preparer.quote
    for name in found:
        connection.exec_driver_sql(f"DROP TABLE {quote(name)}")


def _accounts_skeleton(draws: Draws, count: int, first_day: int, last_day: int) -> np.ndarray:
    """When each account was opened, in order: a quarter before the period, the rest at a growing pace."""
    before = np.arange(round(count * _ACCOUNTS_BEFORE_PERIOD))
    old = working_time(
        first_day - draws.integers("skeleton.account_age", before, 1, _ACCOUNT_HISTORY_DAYS),
        draws.uniform("skeleton.account_time", before),
    )
    return np.sort(
        np.concatenate([old, _growing_moments(draws, "skeleton.account", count - len(before), first_day, last_day)])
    )


def _deals_skeleton(
    draws: Draws, customers: Customers, scale: Scale, first_day: int, window: Window
) -> tuple[np.ndarray, np.ndarray, int]:
    """(account position, opened at) of every deal in order, and how many came from existing accounts:
    most new accounts open one within two weeks, the other deals come from accounts at a growing pace."""
    new, first_at = (part[: scale.opportunities] for part in first_deals(draws, customers, first_day, window))
    repeat_at = _growing_moments(draws, "skeleton.repeat", scale.opportunities - len(new), first_day, window.last_day)
    repeat, repeat_at = pick_buying_accounts(
        customers, repeat_at, draws.uniform("skeleton.repeat_account", np.arange(len(repeat_at)))
    )
    position, at = np.concatenate([new, repeat]), np.concatenate([first_at, repeat_at])
    order = np.lexsort((position, at))
    return position[order], at[order], len(repeat_at)


def _growing_moments(draws: Draws, purpose: str, count: int, first_day: int, last_day: int) -> np.ndarray:
    index = np.arange(count)
    day = mostly_weekdays(
        growing_days(draws.uniform(f"{purpose}.day", index), first_day, last_day, BUSINESS_GROWTH),
        draws.uniform(f"{purpose}.weekend", index),
        last_day,
    )
    return np.sort(working_time(day, draws.uniform(f"{purpose}.time", index)))


def _progress(total: int, quiet: bool) -> tqdm:
    return tqdm(
        total=total, unit="deal", unit_scale=True, desc="crm-simulator", disable=quiet or not sys.stderr.isatty()
    )


def generate(
    url: str,
    *,
    opportunities: int,
    seed: int = 42,
    end_date: date | None = None,
    quiet: bool = False,
    replace: bool = False,
    defects: Sequence[str] = (),
    system: str = "contract",
    wukong_compatible: bool = False,
    timezone: str = WUKONG_TIMEZONE,
    salesforce_compatible: bool = False,
) -> SimulationSummary:
    """Writes a CRM database with `opportunities` deals whose history ends on end_date (default: today, UTC).

    Same arguments, same rows. Refuses a database that already holds CRM tables unless replace is set;
    defects (names from DEFECTS, or WUKONG_DEFECTS for a 悟空CRM database) are injected once the clean
    history is written.

    system "wukong" writes 悟空CRM 11's tables (simulator/wukong.py) with times in timezone, beside the
    simulator's contract-shaped record of the same business, and implies wukong_compatible. wukong_compatible
    alone writes a contract database restricted to what 悟空CRM can hold (README "悟空CRM"): the same seed
    and arguments give the business a wukong database describes.

    system "salesforce" writes the synced tables of a Salesforce org (simulator/salesforce.py) beside the
    contract-shaped record, and implies salesforce_compatible (README "Salesforce"), which alone writes the
    contract database of that business.
    """
    if system not in SYSTEMS:
        raise ValueError(f"unknown source system {system!r}; expected one of {', '.join(SYSTEMS)}")
    try:
        ZoneInfo(timezone)  # an unknown zone fails here, before anything is written
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}; give an IANA name such as Asia/Shanghai") from None
    if (
        wukong_compatible
        and (salesforce_compatible or system == "salesforce")
        or (salesforce_compatible and system == "wukong")
    ):
        raise ValueError("a business is 悟空CRM-compatible or Salesforce-compatible, not both")
    allowed = defects_of(system)
    wrong = [defect for defect in defects if defect not in allowed]
    if wrong:
        raise ValueError(
            f"defect(s) {wrong} cannot be injected at generation into a {system} database; expected {allowed}"
        )
    scale = Scale.of(opportunities)
    last_day = day_number(end_date or datetime.now(UTC).date())
    first_day = add_months(last_day, -PERIOD_MONTHS) + 1
    window = Window.through_day(last_day)
    draws = Draws(seed)
    state = SimulatorState(
        seed=seed,
        opportunities=opportunities,
        first_day=first_day,
        last_day=last_day,
        generated_last_day=last_day,
        customers_per_day=0.0,
        repeat_opportunities_per_day=0.0,
        renewals_per_day=0.0,
        monthly_contract_target=0.0,
        monthly_payment_target=0.0,
        monthly_new_customer_target=0.0,
        system=system,
        wukong_compatible=wukong_compatible or system == "wukong",
        salesforce_compatible=salesforce_compatible or system == "salesforce",
        timezone=timezone,
    )
    metadata = build_metadata()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            bulk_loading(connection)
            _prepare(connection, url, replace)
            metadata.create_all(connection)
            writer = Writer(connection, metadata)
            _write_history(writer, draws, state, scale, window, quiet)
            create_indexes(connection, metadata)
            if system == "wukong":
                wukong = build_wukong_metadata()
                wukong.create_all(connection)
                writer = wukong_writer(connection, wukong)
                Translation(connection, metadata, writer, None, timezone).run()
                create_wukong_indexes(connection, wukong)
            if system == "salesforce":
                synced = build_salesforce_metadata()
                synced.create_all(connection)
                writer = salesforce_writer(connection, synced)
                SalesforceTranslation(connection, metadata, writer, None, window.until).run()
                create_salesforce_indexes(connection, synced)
            state.save(connection, metadata)
            connection.commit()
    finally:
        engine.dispose()
    injected = tuple(inject(url, defect, seed=seed + number) for number, defect in enumerate(defects))
    return SimulationSummary(to_date(first_day), to_date(last_day), dict(writer.inserted), {}, injected)


def _write_history(
    writer: Writer, draws: Draws, state: SimulatorState, scale: Scale, window: Window, quiet: bool
) -> None:
    first_day, last_day = state.first_day, state.last_day
    compatible = state.compatible
    salesforce = state.salesforce_compatible
    departments, users_rows, users = build_organisation(draws, scale.users, first_day, last_day)
    if state.wukong_compatible:  # 悟空CRM's users have no region (the simulation still places reps in one)
        users_rows["region"] = np.full(len(users_rows["region"]), None, dtype=object)
    products_rows, products = build_products(draws, scale.products, first_day)
    if salesforce:  # a Salesforce product has no price of its own (prices live in price books)
        products_rows = products_rows | {"list_price": np.full(len(products.ids), np.nan)}
    fx_rows, fx = fx_rates(draws, window, first_day, None)
    if compatible:  # one currency, no rates
        fx = single_currency_fx(first_day)
    for table, rows in (
        ("departments", departments),
        ("users", users_rows),
        ("products", products_rows),
        ("fx_rates", fx_rows),
    ):
        if not (compatible and table == "fx_rates"):
            writer.insert(table, rows)

    created_at = _accounts_skeleton(draws, scale.customers, first_day, last_day)
    parts = []
    for start in range(0, len(created_at), _ACCOUNTS_PER_CHUNK):
        chunk_at = created_at[start : start + _ACCOUNTS_PER_CHUNK]
        rows, customers = customer_rows(
            draws,
            state.take_ids("customers", len(chunk_at)),
            chunk_at,
            users,
            window.until,
            public_pool=not salesforce,
        )
        writer.insert("customers", rows)
        writer.insert("contacts", contact_rows(draws, state, customers, window))
        writer.insert("activities", account_activity_rows(draws, state, customers, users, window))
        parts.append(customers)
    customers = Customers.concatenate(parts)
    world = World(draws, users, products, customers, fx, state.wukong_compatible, salesforce)

    position, opened_at, repeat_deals = _deals_skeleton(draws, customers, scale, first_day, window)
    wins = 0
    contract_value = 0.0
    with _progress(len(position), quiet) as progress:
        for start in range(0, len(position), _DEALS_PER_CHUNK):
            chunk = slice(start, start + _DEALS_PER_CHUNK)
            batch, won = new_deals(world, state, position[chunk], opened_at[chunk], window)
            if not salesforce:  # a Salesforce-compatible business's contracts are its won opportunities
                batch.merge(contracts_from_wins(world, state, won, window))
            batch.write(writer)
            wins += len(won.opportunity)
            contract_value += float(np.sum(won.amount_cents)) / 100 if salesforce else _reporting_value(batch, fx)
            progress.update(len(position[chunk]))

    renewal_at = _growing_moments(draws, "skeleton.renewal", round(wins * RENEWALS_PER_WIN), first_day, last_day)
    renewal_accounts, renewal_at = pick_buying_accounts(
        customers, renewal_at, draws.uniform("skeleton.renewal_account", np.arange(len(renewal_at)))
    )
    if salesforce:  # one contract per won opportunity, and no renewals (they have no opportunity)
        renewal_at = renewal_at[:0]
        contracts_of_won_opportunities(writer.connection, writer.metadata, writer, None)
    else:
        renewals = renewal_contracts(world, state, renewal_accounts, renewal_at, window)
        renewals.write(writer)
        contract_value += _reporting_value(renewals, fx)

    _size_the_pace(state, customers, repeat_deals, len(renewal_at), contract_value, int(users.is_active.sum()))
    if not compatible:  # neither 悟空CRM nor Salesforce records marketing spend
        writer.insert("marketing_spend", marketing_spend(draws, state, window))
    writer.insert("sales_targets", sales_targets(draws, state, users, window))


def _reporting_value(batch: Batch, fx: FxRates) -> float:
    contracts = batch.rows("contracts")
    if not contracts:
        return 0.0
    rate = fx.to_reporting(indexes_of(contracts["currency"], CURRENCY_CODES), contracts["signed_date"])
    return float(np.sum(contracts["amount"] * rate))


def _size_the_pace(
    state: SimulatorState,
    customers: Customers,
    repeat_deals: int,
    renewals: int,
    contract_value: float,
    active_users: int,
) -> None:
    """Rates for `advance` (the pace at the end of the period) and the reps' baseline monthly targets."""
    days = state.last_day - state.first_day + 1
    end_pace = float(growth_factor(state, state.last_day)) / float(
        np.mean(growth_factor(state, np.arange(state.first_day, state.last_day + 1)))
    )
    new_accounts = int(np.sum(customers.created_at >= state.first_day * DAY))
    state.customers_per_day = new_accounts / days * end_pace
    state.repeat_opportunities_per_day = repeat_deals / days * end_pace
    state.renewals_per_day = renewals / days * end_pace
    per_rep_month = PERIOD_MONTHS * max(active_users, 1)
    state.monthly_contract_target = contract_value / per_rep_month
    state.monthly_payment_target = contract_value * _PAYMENT_TARGET_SHARE / per_rep_month
    state.monthly_new_customer_target = new_accounts / per_rep_month
