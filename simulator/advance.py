"""Moves an existing CRM database's clock forward by some days, as if its users had kept working.

What was planned for existing rows happens if it falls in the new days (deals move, installments are
paid, contracts complete); new accounts and deals arrive at the pace the database was generated
with; and users do what users do: delete a few rows, hand accounts to colleagues, re-price deals.
Every change carries an updated_at in the new days, so an incremental extract sees a real delta.
What the planned events depend on is read before anything is written, so nothing this run writes is
processed twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import MetaData, Table, and_, create_engine, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from crm_contract import SOURCE_TABLES
from simulator.accounts import account_activity_rows, contact_rows, customer_rows, first_deals, pick_buying_accounts
from simulator.catalogue import CHANNELS, FX_CURRENCIES, LEVELS, OPEN_STAGES, REGIONS, SOFT_DELETE_SHARE, WON
from simulator.contracts import (
    CONTRACT_STATUSES,
    Installments,
    SignedContracts,
    cancelled_at,
    contract_status,
    contracts_from_wins,
    invoice_rows,
    payment_rows,
    renewal_contracts,
    survey_rows,
)
from simulator.deals import Deals, Wins, deal_amount_cents, new_deals, play
from simulator.draws import Draws
from simulator.generate import Scale
from simulator.organisation import build_organisation, build_products, product_popularity
from simulator.periodic import fx_rates, marketing_spend, sales_targets
from simulator.salesforce import Translation as SalesforceTranslation
from simulator.salesforce import (
    build_salesforce_metadata,
    contracts_of_won_opportunities,
    salesforce_table_names,
    salesforce_writer,
)
from simulator.schema import STATE_TABLE, build_metadata
from simulator.state import SimulatorState
from simulator.summary import SimulationSummary
from simulator.timeline import DAY, NULL, Window, day_weights, to_date, to_datetime, working_time
from simulator.world import (
    CURRENCY_CODES,
    Customers,
    FxRates,
    Products,
    Users,
    World,
    indexes_of,
    lookup,
    single_currency_fx,
)
from simulator.writer import Batch, Columns, Writer, read, read_table
from simulator.wukong import Translation, build_wukong_metadata, wukong_table_names, wukong_writer

_LONGEST_SIGNING_DELAY_DAYS = 8
_LONGEST_PAYMENT_DELAY_DAYS = 200  # due date to last possible receipt, with margin
_LONGEST_INVOICE_LEAD_DAYS = 11
_LONGEST_SURVEY_DELAY_DAYS = 121
_LONGEST_CONTACT_DELAY_DAYS = 91
_FIRST_DEAL_DAYS = 16
_OWNER_CHANGES_PER_ACCOUNT_DAY = 0.0005
_RELEASED_TO_POOL = 0.25
_REPRICED_PER_OPEN_DEAL_DAY = 0.01
_CHUNK = 900  # ids per IN list: within every engine's bound-parameter limit
_REFERENCE_TABLES = ("users", "products", "fx_rates")


def advance(url: str, days: int, *, seed: int | None = None) -> SimulationSummary:
    """Simulates `days` more days on the database at url. Deterministic given the seed and the database.

    seed (default: the generation's) varies what is new in these days (arrivals, users' edits); what was
    planned for existing rows (a deal's next move, an installment's payment) happens as planned.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    metadata = build_metadata()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _check_state(connection, url)
            state = SimulatorState.load(connection, metadata)
            _check_contract(connection, metadata, url, state)
            if state.system in _SYSTEM_TABLES:
                _check_system_tables(connection, url, state.system)
            window = Window.through_day(state.last_day + days, after_day=state.last_day)
            first_day = state.last_day + 1
            writer = Writer(connection, metadata)
            arrivals = Draws(state.seed if seed is None else seed).generator("advance", state.last_day, window.last_day)
            _Advance(connection, metadata, writer, Draws(state.seed), arrivals, state, window).run()
            if state.salesforce_compatible:  # its contracts are its won opportunities, as they now are
                contracts_of_won_opportunities(connection, metadata, writer, window.after)
            if state.system == "wukong":  # the contract rows this run changed become 悟空CRM rows
                writer = wukong_writer(connection, build_wukong_metadata())
                Translation(connection, metadata, writer, window.after, state.timezone).run()
            if state.system == "salesforce":  # ... or synced Salesforce rows
                writer = salesforce_writer(connection, build_salesforce_metadata())
                SalesforceTranslation(connection, metadata, writer, window.after, window.until).run()
            state.last_day = window.last_day
            state.save(connection, metadata)
            connection.commit()
    finally:
        engine.dispose()
    return SimulationSummary(to_date(first_day), to_date(window.last_day), dict(writer.inserted), dict(writer.updated))


def _check_state(connection: Connection, url: str) -> None:
    if STATE_TABLE not in inspect(connection).get_table_names():
        raise LookupError(
            f"{url} has no {STATE_TABLE} table: it was not written by the simulator; run `generate` first"
        )


_SYSTEM_TABLES = {"wukong": ("悟空CRM", wukong_table_names), "salesforce": ("Salesforce", salesforce_table_names)}


def _check_system_tables(connection: Connection, url: str, system: str) -> None:
    label, names = _SYSTEM_TABLES[system]
    tables = set(inspect(connection).get_table_names())
    missing = [name for name in names() if name not in tables]
    if missing:
        raise LookupError(
            f"{url} lacks the {label} table(s) {missing}; regenerate it (generate --system {system} --replace)"
        )


def _check_contract(connection: Connection, metadata: MetaData, url: str, state: SimulatorState) -> None:
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    for table in SOURCE_TABLES:
        if table.name not in tables:
            raise LookupError(f"{url} lacks the CRM table {table.name}; regenerate it (generate --replace)")
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c for c in table.column_names if c not in present]
        if missing:
            raise LookupError(
                f"{table.name} lacks contract column(s) {missing} (a dropped_column defect?); "
                "advance needs the whole contract: regenerate it (generate --replace)"
            )
    # A compatible business has one currency and no fx_rates rows.
    for name in (t for t in _REFERENCE_TABLES if not (state.compatible and t == "fx_rates")):
        if connection.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one() == 0:
            raise LookupError(
                f"{name} is empty (an empty_table defect?); advance needs the reference data in "
                f"{', '.join(_REFERENCE_TABLES)}: regenerate it (generate --replace)"
            )


@dataclass
class _Existing:
    """What the run reads before it writes anything."""

    open_deals: Deals
    open_amount_cents: np.ndarray
    recent_wins: Wins
    installments: Installments
    surveyable: SignedContracts
    active_contracts: Columns


class _Advance:
    """One run of advance: its database, its window of new days and the rows it gathers to write."""

    def __init__(
        self,
        connection: Connection,
        metadata: MetaData,
        writer: Writer,
        draws: Draws,
        rng: np.random.Generator,
        state: SimulatorState,
        window: Window,
    ) -> None:
        self.connection, self.metadata, self.writer = connection, metadata, writer
        self.draws, self.rng, self.state, self.window = draws, rng, state, window
        self.batch = Batch()

    def table(self, name: str) -> Table:
        return self.metadata.tables[name]

    def run(self) -> None:
        world = self._world()
        existing = self._existing(world)
        self._calendar(world)
        self._new_accounts(world)
        self._deals(world, existing)
        self._money(world, existing)
        self.batch.write(self.writer)
        self._soft_deletes()
        self._owner_changes(world)
        self._repricing()

    # Reading ------------------------------------------------------------------------------------

    def _world(self) -> World:
        users = _first_of_each(
            read_table(self.connection, self.metadata, "users", ["user_id", "region", "manager_user_id", "is_active"]),
            "user_id",
        )
        products = _first_of_each(
            read_table(self.connection, self.metadata, "products", ["product_id", "name", "list_price", "is_active"]),
            "product_id",
        )
        if self.state.salesforce_compatible:  # Salesforce stores no list price: rebuilt from the seed
            _, built = build_products(Draws(self.state.seed), Scale.of(self.state.opportunities).products, 0)
            products["list_price"] = lookup(built.ids, built.list_price, products["product_id"], np.nan)
        customers = read_table(
            self.connection,
            self.metadata,
            "customers",
            ["customer_id", "created_at", "region", "owner_user_id", "level", "source"],
            self.table("customers").c.is_deleted.is_(False),
        )
        _, first = np.unique(customers["customer_id"], return_index=True)  # a duplicated row counts once
        order = first[np.argsort(customers["created_at"][first], kind="stable")]
        fx = read_table(self.connection, self.metadata, "fx_rates", ["currency", "rate_date", "rate_to_reporting"])
        return World(
            draws=self.draws,
            users=Users(users["user_id"], self._user_regions(users), users["manager_user_id"], users["is_active"]),
            products=Products(
                products["product_id"],
                products["name"],
                products["list_price"],
                product_popularity(self.draws, products["product_id"]),
                products["is_active"],
            ),
            customers=Customers(
                customers["customer_id"][order],
                customers["created_at"][order],
                indexes_of(customers["region"][order], REGIONS),
                customers["owner_user_id"][order],
                np.maximum(indexes_of(customers["level"][order], tuple(lv.name for lv in LEVELS)), 0),
                np.maximum(indexes_of(customers["source"][order], tuple(c.name for c in CHANNELS)), 0),
            ),
            fx=single_currency_fx(self.state.first_day) if self.state.compatible else _fx_series(fx),
            wukong_compatible=self.state.wukong_compatible,
            salesforce_compatible=self.state.salesforce_compatible,
        )

    def _user_regions(self, users: Columns) -> np.ndarray:
        """Where each rep sells (index into REGIONS). A 悟空CRM-compatible database stores no user region: the
        organisation is rebuilt from the seed, which placed every user the generation wrote."""
        if not self.state.wukong_compatible:
            return indexes_of(users["region"], REGIONS)
        _, _, organisation = build_organisation(
            Draws(self.state.seed),
            Scale.of(self.state.opportunities).users,
            self.state.first_day,
            self.state.generated_last_day,
        )
        return lookup(organisation.ids, organisation.region, users["user_id"], missing=-1)

    def _lowest_products(self, opportunity_ids: np.ndarray) -> np.ndarray:
        lines = self.table("opportunity_products")
        found: list[tuple[int, int]] = []
        for start in range(0, len(opportunity_ids), _CHUNK):
            chunk = [int(i) for i in opportunity_ids[start : start + _CHUNK]]
            found += self.connection.execute(
                select(lines.c.opportunity_id, func.min(lines.c.product_id))
                .where(lines.c.opportunity_id.in_(chunk))
                .group_by(lines.c.opportunity_id)
            ).all()
        keys = np.array([k for k, _ in found], dtype=np.int64)
        values = np.array([NULL if v is None else v for _, v in found], dtype=np.int64)
        return lookup(keys, values, opportunity_ids)

    def _deals_where(self, world: World, where) -> tuple[Deals, np.ndarray, np.ndarray]:
        rows = read_table(
            self.connection,
            self.metadata,
            "opportunities",
            [
                "opportunity_id",
                "created_at",
                "customer_id",
                "owner_user_id",
                "source",
                "currency",
                "amount",
                "stage",
                "closed_at",
            ],
            where,
        )
        rows = _first_of_each(rows, "opportunity_id")
        keep = rows["owner_user_id"] != NULL
        rows = {name: values[keep] for name, values in rows.items()}
        level = lookup(world.customers.ids, world.customers.level, rows["customer_id"], missing=len(LEVELS) - 1)
        deals = Deals(
            rows["opportunity_id"],
            rows["created_at"],
            rows["customer_id"],
            rows["owner_user_id"],
            np.maximum(indexes_of(rows["source"], tuple(c.name for c in CHANNELS)), 0),
            level,
            np.maximum(indexes_of(rows["currency"], CURRENCY_CODES), 0),
        )
        return deals, np.round(np.nan_to_num(rows["amount"]) * 100).astype(np.int64), rows["closed_at"]

    def _existing(self, world: World) -> _Existing:
        opportunities, contracts, plans = (
            self.table("opportunities"),
            self.table("contracts"),
            self.table("payment_plans"),
        )
        after_day = self.window.after // DAY
        open_deals, open_amount, _ = self._deals_where(
            world,
            and_(
                opportunities.c.status == "open",
                opportunities.c.is_deleted.is_(False),
                opportunities.c.stage.in_(OPEN_STAGES),
            ),
        )
        won, won_amount, won_at = self._deals_where(
            world,
            and_(
                opportunities.c.status == "won",
                opportunities.c.is_deleted.is_(False),
                opportunities.c.closed_at.is_not(None),
                opportunities.c.closed_at > to_datetime((after_day - _LONGEST_SIGNING_DELAY_DAYS) * DAY),
            ),
        )
        recent_wins = Wins(
            won.ids, won_at, won.customer, won.owner, won_amount, won.currency, self._lowest_products(won.ids)
        )
        plan_rows = read(
            self.connection,
            select(plans.c.plan_id, plans.c.contract_id, plans.c.due_date, plans.c.amount, contracts.c.signed_date)
            .join(contracts, contracts.c.contract_id == plans.c.contract_id)
            .where(
                contracts.c.is_deleted.is_(False),
                plans.c.due_date >= to_date(after_day - _LONGEST_PAYMENT_DELAY_DAYS),
                plans.c.due_date <= to_date(self.window.last_day + _LONGEST_INVOICE_LEAD_DAYS),
            ),
            ["integer", "integer", "date", "money", "date"],
        )
        plan_rows = _first_of_each(plan_rows, "plan_id")
        installments = Installments(
            plan_rows["plan_id"],
            plan_rows["contract_id"],
            plan_rows["due_date"],
            np.round(plan_rows["amount"] * 100).astype(np.int64),
            plan_rows["signed_date"],
            cancelled_at(self.draws, plan_rows["contract_id"], plan_rows["signed_date"]),
        )
        signed = read_table(
            self.connection,
            self.metadata,
            "contracts",
            ["contract_id", "customer_id", "owner_user_id", "signed_date", "opportunity_id"],
            and_(
                contracts.c.is_deleted.is_(False),
                contracts.c.signed_date >= to_date(after_day - _LONGEST_SURVEY_DELAY_DAYS),
            ),
        )
        signed = _first_of_each(signed, "contract_id")
        surveyable = SignedContracts(
            signed["contract_id"],
            signed["customer_id"],
            signed["owner_user_id"],
            signed["signed_date"],
            np.where(signed["opportunity_id"] == NULL, NULL, self._lowest_products(signed["opportunity_id"])),
        )
        active = read_table(
            self.connection,
            self.metadata,
            "contracts",
            ["contract_id", "signed_date", "end_date"],
            and_(contracts.c.status == "active", contracts.c.is_deleted.is_(False)),
        )
        return _Existing(open_deals, open_amount, recent_wins, installments, surveyable, active)

    # Writing ------------------------------------------------------------------------------------

    def _calendar(self, world: World) -> None:
        if not self.state.compatible:  # a compatible business has one currency and no marketing spend
            latest = {code: float(series[-1]) for code, series in world.fx.rates.items()}
            rows, new = fx_rates(self.draws, self.window, self.state.first_day, latest)
            self.batch.add("fx_rates", rows)
            world.fx = FxRates(
                world.fx.first_day,
                {code: np.concatenate([world.fx.rates[code], new.rates[code]]) for code in FX_CURRENCIES},
            )
            self.batch.add("marketing_spend", marketing_spend(self.draws, self.state, self.window))
        self.batch.add("sales_targets", sales_targets(self.draws, self.state, world.users, self.window))

    def _moments(self, per_day: float) -> np.ndarray:
        """Moments in working hours of the new days for a Poisson number of new rows, fewer at weekends."""
        days = np.arange(self.window.after // DAY + 1, self.window.last_day + 1)
        day = np.repeat(days, self.rng.poisson(per_day * day_weights(days)))
        return np.sort(working_time(day, self.rng.random(len(day))))

    def _new_accounts(self, world: World) -> None:
        created_at = self._moments(self.state.customers_per_day)
        rows, new = customer_rows(
            self.draws,
            self.state.take_ids("customers", len(created_at)),
            created_at,
            world.users,
            self.window.until,
            public_pool=not self.state.salesforce_compatible,
        )
        self.batch.add("customers", rows)
        world.customers = Customers.concatenate([world.customers, new])
        recent = world.customers.take(
            np.flatnonzero(world.customers.created_at > self.window.after - _LONGEST_CONTACT_DELAY_DAYS * DAY)
        )
        self.batch.add("contacts", contact_rows(self.draws, self.state, recent, self.window))
        self.batch.add(
            "activities", account_activity_rows(self.draws, self.state, world.customers, world.users, self.window)
        )

    def _deals(self, world: World, existing: _Existing) -> None:
        customers = world.customers
        recent = np.flatnonzero(customers.created_at > self.window.after - _FIRST_DEAL_DAYS * DAY)
        first, first_at = first_deals(self.draws, customers.take(recent), self.state.first_day, self.window)
        repeat_at = self._moments(self.state.repeat_opportunities_per_day)
        repeat, repeat_at = pick_buying_accounts(customers, repeat_at, self.rng.random(len(repeat_at)))
        position, at = np.concatenate([recent[first], repeat]), np.concatenate([first_at, repeat_at])
        order = np.argsort(at, kind="stable")
        batch, new_wins = new_deals(world, self.state, position[order], at[order], self.window)
        self.batch.merge(batch)

        moves, batch = play(world, self.state, existing.open_deals, self.window)
        self.batch.merge(batch)
        deals = existing.open_deals
        moved = np.unique(moves.position[self.window.holds(moves.at)])
        salesforce = self.state.salesforce_compatible
        outcome = moves.outcome(moved, on_close_day=salesforce)
        self.writer.update(
            "opportunities",
            {"opportunity_id": deals.ids[moved]},
            outcome | {"updated_at": moves.last_move_at[moved]},
        )
        closed = outcome["closed_at"] != NULL
        if salesforce:  # the close date becomes the day it closed
            self.writer.update(
                "opportunities",
                {"opportunity_id": deals.ids[moved][closed]},
                {"expected_close_date": outcome["closed_at"][closed] // DAY},
            )
            return
        won = moved[moves.stage[moved] == WON]
        fresh_wins = Wins(
            deals.ids[won],
            moves.last_move_at[won],
            deals.customer[won],
            deals.owner[won],
            existing.open_amount_cents[won],
            deals.currency[won],
            self._lowest_products(deals.ids[won]),
        )
        wins = Wins.concatenate([existing.recent_wins, fresh_wins, new_wins])
        self.batch.merge(contracts_from_wins(world, self.state, wins, self.window))

    def _money(self, world: World, existing: _Existing) -> None:
        if self.state.salesforce_compatible:  # no installments, payments, invoices, surveys or renewals
            return
        self.batch.add("payments", payment_rows(self.draws, self.state, existing.installments, self.window))
        self.batch.add("invoices", invoice_rows(self.draws, self.state, existing.installments, self.window))
        self.batch.add(
            "satisfaction_surveys",
            survey_rows(self.draws, self.state, existing.surveyable, self.window, self.state.wukong_compatible),
        )
        active = existing.active_contracts
        status, changed_at = contract_status(
            self.draws, active["contract_id"], active["signed_date"], active["end_date"], self.window.until
        )
        # A compatible contract stays active (悟空CRM counts approved contracts, whatever became of them).
        changed = (status != 0) & self.window.holds(changed_at) & (not self.state.wukong_compatible)
        self.writer.update(
            "contracts",
            {"contract_id": active["contract_id"][changed]},
            {"status": np.array(CONTRACT_STATUSES, dtype=object)[status[changed]], "updated_at": changed_at[changed]},
        )
        renewal_at = self._moments(self.state.renewals_per_day)
        renewal_accounts, renewal_at = pick_buying_accounts(
            world.customers, renewal_at, self.rng.random(len(renewal_at))
        )
        self.batch.merge(renewal_contracts(world, self.state, renewal_accounts, renewal_at, self.window))

    def _random_moments(self, count: int) -> np.ndarray:
        return working_time(
            self.rng.integers(self.window.after // DAY + 1, self.window.last_day + 1, size=count),
            self.rng.random(count),
        )

    def _by_ids(self, table: str, names: list[str], ids: np.ndarray, *where: ColumnElement[bool]) -> Columns:
        """Rows of a single-id table whose id is among ids (sorted, unique), one per id, in id order."""
        key = SOURCE_TABLE_KEYS[table]
        columns = [key, *names]
        parts = [
            read_table(
                self.connection,
                self.metadata,
                table,
                columns,
                and_(self.table(table).c[key].in_([int(i) for i in ids[start : start + _CHUNK]]), *where),
            )
            for start in range(0, len(ids), _CHUNK)
        ]
        if not parts:
            return {name: np.empty(0, np.int64) for name in columns}
        return _first_of_each({name: np.concatenate([p[name] for p in parts]) for name in columns}, key)

    def _touch(self, table: str, ids: np.ndarray, changes: Columns) -> tuple[np.ndarray, np.ndarray]:
        """Applies changes (aligned with ids, sorted and unique) to rows of a single-id table at random moments
        of the new days, never before the row's own last update; returns the ids found and their moments."""
        key = SOURCE_TABLE_KEYS[table]
        current = self._by_ids(table, ["updated_at"], ids)
        found = current[key]
        position = np.searchsorted(ids, found)
        moment = np.minimum(np.maximum(self._random_moments(len(found)), current["updated_at"] + 60), self.window.until)
        self.writer.update(
            table, {key: found}, {name: values[position] for name, values in changes.items()} | {"updated_at": moment}
        )
        return found, moment

    def _soft_deletes(self) -> None:
        """About as many deletions as a user makes among the rows added: at least one per table."""
        for table in ("customers", "contacts", "opportunities", "activities"):
            wanted = max(1, round(SOFT_DELETE_SHARE[table] * self.writer.inserted[table]))
            candidates = np.unique(self.rng.integers(1, self.state.next_ids.get(table, 2), size=wanted * 2))
            live = self._by_ids(table, [], candidates, self.table(table).c.is_deleted.is_(False))[
                SOURCE_TABLE_KEYS[table]
            ]
            chosen = live[:wanted]
            self._touch(table, chosen, {"is_deleted": np.ones(len(chosen), dtype=bool)})

    def _owner_changes(self, world: World) -> None:
        """Accounts handed to a colleague of the region, released to the public pool, or claimed from it."""
        customers = world.customers
        count = min(len(customers.ids), max(1, round(_OWNER_CHANGES_PER_ACCOUNT_DAY * len(customers.ids) * self.days)))
        chosen = np.sort(self.rng.choice(len(customers.ids), size=count, replace=False))
        colleague = world.users.pick_in_region(customers.region[chosen], self.rng.random(count), active_only=True)
        released = (
            (customers.owner[chosen] != NULL)
            & (self.rng.random(count) < _RELEASED_TO_POOL)
            & (not self.state.salesforce_compatible)
        )
        ids = customers.ids[chosen]
        order = np.argsort(ids)
        self._touch("customers", ids[order], {"owner_user_id": np.where(released, NULL, colleague)[order]})

    def _repricing(self) -> None:
        """Some open deals change quantity on a line; the deal's amount follows its lines."""
        opportunities = self.table("opportunities")
        candidates = np.unique(
            read_table(
                self.connection,
                self.metadata,
                "opportunities",
                ["opportunity_id"],
                and_(opportunities.c.status == "open", opportunities.c.is_deleted.is_(False)),
            )["opportunity_id"]
        )
        count = min(len(candidates), _CHUNK, max(1, round(_REPRICED_PER_OPEN_DEAL_DAY * len(candidates) * self.days)))
        if not count:
            return
        chosen = np.sort(self.rng.choice(candidates, size=count, replace=False))
        lines = read_table(
            self.connection,
            self.metadata,
            "opportunity_products",
            ["opportunity_id", "product_id", "quantity", "unit_price", "discount_pct"],
            self.table("opportunity_products").c.opportunity_id.in_([int(i) for i in chosen]),
        )  # at most _CHUNK
        _, first_line = np.unique(lines["opportunity_id"], return_index=True)
        repriced = lines["opportunity_id"][first_line]
        quantity = lines["quantity"].copy()
        quantity[first_line] = np.maximum(1, quantity[first_line] + self.rng.integers(-2, 6, size=len(first_line)))
        deal = np.searchsorted(repriced, lines["opportunity_id"])
        amount_cents = deal_amount_cents(
            deal,
            quantity,
            np.round(lines["unit_price"] * 100).astype(np.int64),
            np.round(lines["discount_pct"]).astype(np.int64),
            len(repriced),
        )
        found, moment = self._touch("opportunities", repriced, {"amount": amount_cents / 100})
        changed = first_line[np.isin(repriced, found)]
        self.writer.update(
            "opportunity_products",
            {"opportunity_id": lines["opportunity_id"][changed], "product_id": lines["product_id"][changed]},
            {"quantity": quantity[changed], "updated_at": moment},
        )

    @property
    def days(self) -> int:
        return self.window.last_day - self.window.after // DAY


SOURCE_TABLE_KEYS = {t.name: t.primary_key[0] for t in SOURCE_TABLES if len(t.primary_key) == 1}


def _first_of_each(rows: Columns, key: str) -> Columns:
    """One row per key, ordered by key: a duplicated row (a defect) is processed once."""
    _, first = np.unique(rows[key], return_index=True)
    return {name: values[first] for name, values in rows.items()}


def _fx_series(rows: Columns) -> FxRates:
    """Daily series per currency from the stored rows, a missing day carrying the day before's rate."""
    first, last = int(rows["rate_date"].min()), int(rows["rate_date"].max())
    rates = {}
    for code in FX_CURRENCIES:
        mine = rows["currency"] == code
        days, values = rows["rate_date"][mine], rows["rate_to_reporting"][mine]
        order = np.argsort(days)
        positions = np.clip(
            np.searchsorted(days[order], np.arange(first, last + 1), side="right") - 1, 0, len(order) - 1
        )
        rates[code] = values[order][positions]
    return FxRates(first, rates)
