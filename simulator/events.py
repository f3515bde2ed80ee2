"""Planned events shared by several tables: recurring follow-ups and soft deletes.

Both are functions of the row's identity (draws.py), so a window emits exactly the ones that fall in it.
"""

from __future__ import annotations

import numpy as np

from simulator.catalogue import ACTIVITY_TYPE_ODDS, ACTIVITY_TYPES, SOFT_DELETE_SHARE
from simulator.draws import Draws
from simulator.names import pick
from simulator.state import SimulatorState
from simulator.timeline import DAY, NULL, Window
from simulator.writer import Columns

_LONGEST_DELETE_DELAY = 180 * DAY
_SALESFORCE_TASKS = ("call", "email")  # Salesforce's task subtypes Call and Email; other follow-ups are events
_SALESFORCE_EVENT = "event"


def recurring(
    draws: Draws, purpose: str, ids: np.ndarray, starts: np.ndarray, ends: np.ndarray, per_day: float, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events at random intervals (a Poisson process) from each start to its end, inside window.

    Returns the position of each event's subject in ids, its time and its number in the subject's
    sequence, so an advance replays a subject's sequence and emits only the new days' events.
    """
    positions, times, numbers = [], [], []
    clock = starts.astype(np.int64).copy()
    active = np.flatnonzero(starts != NULL)
    number = 0
    while active.size:
        clock[active] += (draws.exponential(purpose, ids[active], DAY / per_day, number) + 1).astype(np.int64)
        active = active[clock[active] <= np.minimum(ends[active], window.until)]
        emitted = active[clock[active] > window.after]
        positions.append(emitted)
        times.append(clock[emitted])
        numbers.append(np.full(len(emitted), number))
        number += 1
    if not positions:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(positions), np.concatenate(times), np.concatenate(numbers)


def soft_deletes(
    draws: Draws, table: str, ids: np.ndarray, created_at: np.ndarray, until: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows a user deletes (within half a year of creation) by the end of the window, and when."""
    deleted_at = (
        created_at + 3600 + (draws.uniform(f"{table}.deleted_at", ids) * _LONGEST_DELETE_DELAY).astype(np.int64)
    )
    deleted = draws.bernoulli(f"{table}.deleted", ids, SOFT_DELETE_SHARE.get(table, 0.0)) & (deleted_at <= until)
    return deleted, deleted_at


def activity_rows(
    draws: Draws,
    state: SimulatorState,
    customer: np.ndarray,
    opportunity: np.ndarray,
    user: np.ndarray,
    occurred_at: np.ndarray,
    until: int,
) -> Columns:
    ids = state.take_ids("activities", len(customer))
    deleted, deleted_at = soft_deletes(draws, "activities", ids, occurred_at, until)
    kind = pick(ACTIVITY_TYPES, draws.choice("activity.type", ids, ACTIVITY_TYPE_ODDS))
    if state.salesforce_compatible:  # calls and e-mails are tasks, dated without a time; the rest are events
        kind = np.where(np.isin(kind, _SALESFORCE_TASKS), kind, _SALESFORCE_EVENT)
        occurred_at = np.where(np.isin(kind, _SALESFORCE_TASKS), occurred_at // DAY * DAY, occurred_at)
    return {
        "activity_id": ids,
        "customer_id": customer,
        "opportunity_id": opportunity,
        "user_id": user,
        "activity_type": kind,
        "occurred_at": occurred_at,
        "is_deleted": deleted,
        "updated_at": np.where(deleted, deleted_at, occurred_at),
    }
