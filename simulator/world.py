"""What the generators need to know about the CRM's existing rows: reps, products, accounts, fx rates.

Generation builds these as it writes the rows; `advance` reads them back from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np

from simulator.catalogue import CURRENCIES, FX_CURRENCIES, LEVELS, PUBLIC_POOL_OPPORTUNITY_WEIGHT, REGIONS
from simulator.draws import Draws
from simulator.timeline import NULL

CURRENCY_CODES: tuple[str, ...] = tuple(c.code for c in CURRENCIES)
WUKONG_CURRENCY = "CNY"  # CRM_SOURCE_CURRENCY's default: the one currency of a 悟空CRM-compatible business


def indexes_of(names: np.ndarray, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Positions of names in vocabulary; -1 for a name it does not hold (a hand-edited row, a defect)."""
    lookup = {name: i for i, name in enumerate(vocabulary)}
    return np.array([lookup.get(name, -1) for name in names], dtype=np.int64)


def lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray, missing: object = NULL) -> np.ndarray:
    """values[i] where keys[i] == wanted (keys unique), or missing where no key matches."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    position = np.clip(np.searchsorted(sorted_keys, wanted), 0, max(len(order) - 1, 0))
    found = sorted_keys[position] == wanted if len(order) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, values[order][position] if len(order) else missing, missing)


def customer_currency(draws: Draws, customer_ids: np.ndarray) -> np.ndarray:
    """The account's billing currency (index into CURRENCY_CODES): a function of the id, stored nowhere."""
    return draws.choice("customer.currency", customer_ids, [c.account_share for c in CURRENCIES])


@dataclass
class Users:
    ids: np.ndarray
    region: np.ndarray  # index into REGIONS
    manager: np.ndarray  # user id or NULL
    is_active: np.ndarray

    def pick_in_region(self, regions: np.ndarray, u: np.ndarray, active_only: bool = False) -> np.ndarray:
        """A user of each region, u in [0, 1) choosing which; anyone at all where a region has nobody."""
        eligible = self.is_active if active_only else np.ones(len(self.ids), dtype=bool)
        order = np.lexsort((self.ids[eligible], self.region[eligible]))
        candidates, candidate_regions = self.ids[eligible][order], self.region[eligible][order]
        counts = np.bincount(candidate_regions[candidate_regions >= 0], minlength=len(REGIONS))
        starts = np.searchsorted(candidate_regions, np.arange(len(REGIONS)))
        known = regions >= 0
        count = np.where(known, counts[np.where(known, regions, 0)], 0)
        start = np.where(known, starts[np.where(known, regions, 0)], 0)
        count, start = np.where(count > 0, count, len(candidates)), np.where(count > 0, start, 0)
        return candidates[start + (u * count).astype(np.int64)]

    def manager_of(self, user_ids: np.ndarray) -> np.ndarray:
        return lookup(self.ids, self.manager, user_ids)


@dataclass
class Products:
    ids: np.ndarray
    names: np.ndarray
    list_price: np.ndarray  # reporting currency
    popularity: np.ndarray  # relative odds of appearing on a deal
    is_active: np.ndarray

    def name_of(self, product_ids: np.ndarray) -> np.ndarray:
        return lookup(self.ids, self.names, product_ids)


class Arrays:
    """For dataclasses of equally long arrays: a row is the same position in every field."""

    def take(self, positions: np.ndarray) -> Self:
        return type(self)(*(getattr(self, name)[positions] for name in self.__dataclass_fields__))

    @classmethod
    def concatenate(cls, parts: list[Self]) -> Self:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in cls.__dataclass_fields__))


@dataclass
class Customers(Arrays):
    ids: np.ndarray
    created_at: np.ndarray
    region: np.ndarray
    owner: np.ndarray  # NULL: in the public pool
    level: np.ndarray  # index into LEVELS
    source: np.ndarray  # index into CHANNELS

    def buying_weight(self) -> np.ndarray:
        weight = np.array([level.opportunity_weight for level in LEVELS])[self.level]
        return np.where(self.owner == NULL, weight * PUBLIC_POOL_OPPORTUNITY_WEIGHT, weight)


@dataclass
class FxRates:
    first_day: int
    rates: dict[str, np.ndarray]  # currency -> rate_to_reporting per day from first_day

    def to_reporting(self, currency: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Rate of each currency (index into CURRENCY_CODES) on each day; 1 for the reporting currency."""
        out = np.ones(len(currency))
        for code in FX_CURRENCIES:
            mine = currency == CURRENCY_CODES.index(code)
            series = self.rates[code]
            out[mine] = series[np.clip(days[mine] - self.first_day, 0, len(series) - 1)]
        return out


@dataclass
class World:
    draws: Draws
    users: Users
    products: Products
    customers: Customers
    fx: FxRates
    wukong_compatible: bool = False  # restricted to what 悟空CRM can hold (simulator/README.md)
    salesforce_compatible: bool = False  # restricted to what Salesforce can hold (simulator/README.md)

    def currency_of(self, customer_ids: np.ndarray) -> np.ndarray:
        """The accounts' billing currency; a compatible business (悟空CRM, Salesforce) bills in CNY only."""
        if self.wukong_compatible or self.salesforce_compatible:
            return np.full(len(customer_ids), CURRENCY_CODES.index(WUKONG_CURRENCY), dtype=np.int64)
        return customer_currency(self.draws, customer_ids)


def single_currency_fx(first_day: int) -> FxRates:
    """Rate 1 for every currency: a compatible business has one currency and no fx_rates rows."""
    return FxRates(first_day, {code: np.ones(1) for code in FX_CURRENCIES})
