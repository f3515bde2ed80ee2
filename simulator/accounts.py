"""The buyer's side: accounts (customers), the people at them (contacts) and follow-ups outside deals."""

from __future__ import annotations

import numpy as np

from simulator.catalogue import (
    ACCOUNT_ACTIVITIES_PER_DAY,
    CHANNELS,
    CITIES,
    CONTACT_TITLES,
    CONTACTS_PER_ACCOUNT,
    INDUSTRIES,
    LEVELS,
    PUBLIC_POOL_SHARE,
    REGIONS,
)
from simulator.draws import Draws
from simulator.events import activity_rows, recurring, soft_deletes
from simulator.names import companies, mobile_numbers, people, pick
from simulator.state import SimulatorState
from simulator.timeline import DAY, NULL, Window, weekday_or_monday, working_time
from simulator.world import Customers, Users
from simulator.writer import Columns

_CITY_REGION = np.array([REGIONS.index(c.region) for c in CITIES])
_EDITED_SHARE = 0.4
_FIRST_CONTACT_DELAY = 2 * DAY
_LATER_CONTACT_DELAY = 90 * DAY
_MAX_CONTACTS = 8
_FIRST_DEAL_SHARE = 0.8  # new accounts that open a deal within two weeks
_FIRST_DEAL_DAYS = 15


def customer_rows(
    draws: Draws, ids: np.ndarray, created_at: np.ndarray, users: Users, until: int, public_pool: bool = True
) -> tuple[Columns, Customers]:
    """New accounts; a fifth sit in the public pool (公海) with no owner, the rest belong to a rep of their region.
    Without a public pool (Salesforce: every account has an owner) all belong to a rep."""
    city = draws.choice("customer.city", ids, [c.weight for c in CITIES])
    region = _CITY_REGION[city]
    industry = draws.choice("customer.industry", ids, [i.weight for i in INDUSTRIES])
    level = draws.choice("customer.level", ids, [lv.share for lv in LEVELS])
    source = draws.choice("customer.source", ids, [c.share for c in CHANNELS])
    owner = users.pick_in_region(region, draws.uniform("customer.owner", ids), active_only=True)
    owner = np.where(draws.bernoulli("customer.pool", ids, PUBLIC_POOL_SHARE) & public_pool, NULL, owner)
    edited_at = created_at + (draws.uniform("customer.edited_at", ids) * 400 * DAY).astype(np.int64)
    edited = draws.bernoulli("customer.edited", ids, _EDITED_SHARE) & (edited_at <= until)
    deleted, deleted_at = soft_deletes(draws, "customers", ids, created_at, until)
    city_names = pick([c.name for c in CITIES], city)
    columns = {
        "customer_id": ids,
        "name": companies(draws, ids, city_names, pick([i.company_word for i in INDUSTRIES], industry)),
        "industry": pick([i.name for i in INDUSTRIES], industry),
        "city": city_names,
        "province": pick([c.province for c in CITIES], city),
        "region": pick(REGIONS, region),
        "level": pick([lv.name for lv in LEVELS], level),
        "source": pick([c.name for c in CHANNELS], source),
        "owner_user_id": owner,
        "created_at": created_at,
        "is_deleted": deleted,
        "updated_at": np.maximum.reduce(
            [created_at, np.where(edited, edited_at, NULL), np.where(deleted, deleted_at, NULL)]
        ),
    }
    return columns, Customers(ids, created_at, region, owner, level, source)


def contact_rows(draws: Draws, state: SimulatorState, customers: Customers, window: Window) -> Columns:
    """About two contacts per account: the first met when the account is opened, the others within three months."""
    count = np.minimum(1 + draws.poisson("contact.count", customers.ids, CONTACTS_PER_ACCOUNT - 1), _MAX_CONTACTS)
    account = np.repeat(np.arange(len(customers.ids)), count)
    number = np.arange(len(account)) - np.repeat(np.cumsum(count) - count, count)
    delay = np.where(number == 0, _FIRST_CONTACT_DELAY, _LATER_CONTACT_DELAY)
    created_at = customers.created_at[account] + (
        draws.uniform("contact.delay", customers.ids[account], number) * delay
    ).astype(np.int64)
    keep = window.holds(created_at)
    account, created_at = account[keep], created_at[keep]
    ids = state.take_ids("contacts", len(account))
    names, emails = people(draws, "contact", ids, "example.cn")
    deleted, deleted_at = soft_deletes(draws, "contacts", ids, created_at, window.until)
    return {
        "contact_id": ids,
        "customer_id": customers.ids[account],
        "name": names,
        "title": pick(CONTACT_TITLES, draws.integers("contact.title", ids, 0, len(CONTACT_TITLES))),
        "email": emails,
        "phone": mobile_numbers(draws, ids),
        "created_at": created_at,
        "is_deleted": deleted,
        "updated_at": np.where(deleted, deleted_at, created_at),
    }


def account_activity_rows(
    draws: Draws, state: SimulatorState, customers: Customers, users: Users, window: Window
) -> Columns:
    """Follow-ups on an account outside any deal, by its owner (or a rep of the region for a pool account)."""
    starts = np.maximum(customers.created_at, state.first_day * DAY)
    ends = np.full(len(starts), window.until)
    account, occurred_at, number = recurring(
        draws, "account.activity", customers.ids, starts, ends, ACCOUNT_ACTIVITIES_PER_DAY, window
    )
    owner = customers.owner[account]
    stand_in = users.pick_in_region(
        customers.region[account], draws.uniform("account.activity.user", customers.ids[account], number)
    )
    return activity_rows(
        draws,
        state,
        customers.ids[account],
        np.full(len(account), NULL),
        np.where(owner == NULL, stand_in, owner),
        occurred_at,
        window.until,
    )


def pick_buying_accounts(customers: Customers, at: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of accounts that open a deal at each moment: any account that exists by then, big and
    owned accounts more often. customers must be in order of created_at. Moments before the first
    account are dropped: returns the positions and the moments kept."""
    existing = np.searchsorted(customers.created_at, at, side="left")
    at, u, existing = at[existing > 0], u[existing > 0], existing[existing > 0]
    weight = np.cumsum(customers.buying_weight())
    return np.minimum(np.searchsorted(weight, u * weight[existing - 1], side="right"), existing - 1), at


def first_deals(draws: Draws, customers: Customers, first_day: int, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """(account position, opened at) of the deals most accounts opened in the period start with,
    within two weeks of being opened."""
    ids = customers.ids
    day = weekday_or_monday(
        customers.created_at // DAY + draws.integers("account.first_deal_day", ids, 0, _FIRST_DEAL_DAYS)
    )
    at = np.maximum(customers.created_at + 600, working_time(day, draws.uniform("account.first_deal_time", ids)))
    opens = (
        (customers.created_at >= first_day * DAY)
        & draws.bernoulli("account.first_deal", ids, _FIRST_DEAL_SHARE)
        & window.holds(at)
    )
    return np.flatnonzero(opens), at[opens]
