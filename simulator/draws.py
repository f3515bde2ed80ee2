"""Randomness keyed by what a draw is about, not by the order it is made in.

A draw is a pure function of (seed, purpose, row id, step). The fate of a row (when an opportunity
moves next, whether an installment is paid late) is therefore planned once and for all: generation
emits the planned events up to its end date, and a later `advance` emits the same row's events that
fall in the new days, however the days are stepped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STEP = np.uint64(0xD1B54A32D192ED03)


def _mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection that scatters neighbouring ids across 64 bits."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stable_key(*parts: object) -> int:
    """A 64-bit key that, unlike hash(), is the same in every process."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Draws:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._keys: dict[str, np.uint64] = {}

    def uniform(self, purpose: str, ids: np.ndarray, step: np.ndarray | int = 0) -> np.ndarray:
        """Uniform in [0, 1) for each id (and step, e.g. the n-th move of an opportunity)."""
        key = self._keys.get(purpose)
        if key is None:
            key = self._keys[purpose] = np.uint64(stable_key(self.seed, purpose))
        with np.errstate(over="ignore"):
            z = _mix(np.asarray(ids, dtype=np.int64).astype(np.uint64) * _GOLDEN + key)
            z = _mix(z ^ (np.asarray(step, dtype=np.int64).astype(np.uint64) * _STEP))
        return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53

    def bernoulli(self, purpose: str, ids: np.ndarray, p: float | np.ndarray, step: np.ndarray | int = 0) -> np.ndarray:
        return self.uniform(purpose, ids, step) < p

    def integers(
        self, purpose: str, ids: np.ndarray, low: int, high: int | np.ndarray, step: np.ndarray | int = 0
    ) -> np.ndarray:
        """Integers in [low, high)."""
        return low + (self.uniform(purpose, ids, step) * (np.asarray(high) - low)).astype(np.int64)

    def choice(self, purpose: str, ids: np.ndarray, odds: Sequence[float], step: np.ndarray | int = 0) -> np.ndarray:
        """Index into odds (relative weights) for each id."""
        cumulative = np.cumsum(np.asarray(odds, dtype=np.float64))
        picks = np.searchsorted(cumulative / cumulative[-1], self.uniform(purpose, ids, step), side="right")
        return np.minimum(picks, len(cumulative) - 1)

    def exponential(
        self, purpose: str, ids: np.ndarray, mean: float | np.ndarray, step: np.ndarray | int = 0
    ) -> np.ndarray:
        return -np.log1p(-self.uniform(purpose, ids, step)) * mean

    def normal(self, purpose: str, ids: np.ndarray, step: np.ndarray | int = 0) -> np.ndarray:
        radius = np.sqrt(-2.0 * np.log1p(-self.uniform(f"{purpose}#r", ids, step)))
        return radius * np.cos(2.0 * np.pi * self.uniform(f"{purpose}#a", ids, step))

    def poisson(
        self, purpose: str, ids: np.ndarray, mean: float | np.ndarray, step: np.ndarray | int = 0
    ) -> np.ndarray:
        """Poisson counts by inverting the CDF, which keeps one uniform per id (means stay small here)."""
        u = self.uniform(purpose, ids, step)
        mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), u.shape)
        if mean.size and mean.max() > 500:
            raise ValueError("poisson() inverts the CDF and is meant for means up to 500; use generator()")
        counts = np.zeros(u.shape, dtype=np.int64)
        term = np.exp(-mean)
        total = term.copy()
        pending = np.flatnonzero(u > total)
        k = 0
        while pending.size:
            k += 1
            term[pending] *= mean[pending] / k
            total[pending] += term[pending]
            counts[pending] = k
            pending = pending[u[pending] > total[pending]]
        return counts

    def generator(self, *keys: object) -> np.random.Generator:
        """A sequential generator for creating new rows in bulk (how many customers on a given day)."""
        return np.random.default_rng([self.seed % 2**63, stable_key(*keys) % 2**63])
