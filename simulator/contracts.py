"""Contracts (合同) and the money behind them: installments (回款计划), payments (回款), invoices and surveys.

Like deals, a contract's future is planned from its id: whether it is cancelled, how each installment
gets paid (on time, late, in part, never), when it is invoiced and surveyed. A window emits what falls
in it, so `advance` pays the installments that come due in the new days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.catalogue import (
    CANCELLED_CONTRACT_SHARE,
    CONTRACT_TERM_DAYS,
    CONTRACT_TERM_ODDS,
    INSTALLMENT_COUNT_ODDS,
    INVOICED_INSTALLMENT_SHARE,
    LEVELS,
    PAYMENT_BEHAVIOUR_ODDS,
    PAYMENT_METHOD_ODDS,
    PAYMENT_METHODS,
    SCORE_ODDS,
    SURVEY_WITHOUT_PRODUCT_SHARE,
    SURVEYED_CONTRACT_SHARE,
    UNPLANNED_PAYMENT_SHARE,
    WINS_WITH_CONTRACT,
)
from simulator.deals import Wins
from simulator.draws import Draws
from simulator.events import soft_deletes
from simulator.names import id_texts, pick
from simulator.state import SimulatorState
from simulator.timeline import DAY, NULL, Window, weekday_or_friday, weekday_or_monday, working_time
from simulator.world import CURRENCY_CODES, Arrays, World
from simulator.writer import Batch, Columns

CONTRACT_STATUSES: tuple[str, ...] = ("active", "completed", "cancelled")
_ON_TIME, _LATE, _PARTIAL, _MISSING = range(4)
_MEAN_DAYS_LATE, _MAX_DAYS_LATE = 25.0, 180
_PARTIAL_REMAINDER_PAID = 0.6
_COMPLETED_AT = 2 * 3600  # the nightly job marks contracts completed the day after they end
_INSTALLMENT_SPACING_DAYS = 60
_RENEWAL_MEDIAN_VALUE = 15_000.0  # reporting currency


@dataclass
class Installments:
    """Payment plans with what their fate depends on."""

    ids: np.ndarray
    contract: np.ndarray
    due_day: np.ndarray
    amount_cents: np.ndarray
    signed_day: np.ndarray
    cancelled_at: np.ndarray  # of the contract; NULL if it never is


@dataclass
class SignedContracts:
    ids: np.ndarray
    customer: np.ndarray
    owner: np.ndarray
    signed_day: np.ndarray
    product: np.ndarray  # NULL when the contract has no deal


def cancelled_at(draws: Draws, ids: np.ndarray, signed_day: np.ndarray) -> np.ndarray:
    when = working_time(
        signed_day + draws.integers("contract.cancel_day", ids, 10, 200), draws.uniform("contract.cancel_time", ids)
    )
    return np.where(draws.bernoulli("contract.cancelled", ids, CANCELLED_CONTRACT_SHARE), when, NULL)


def contract_status(
    draws: Draws, ids: np.ndarray, signed_day: np.ndarray, end_day: np.ndarray, until: int
) -> tuple[np.ndarray, np.ndarray]:
    """Status (index into CONTRACT_STATUSES) at until, and when it last changed (NULL: still as signed)."""
    cancelled = cancelled_at(draws, ids, signed_day)
    completed = (end_day + 1) * DAY + _COMPLETED_AT
    is_cancelled = (cancelled != NULL) & (cancelled <= until) & (cancelled < completed)
    is_completed = ~is_cancelled & (completed <= until)
    status = np.select([is_cancelled, is_completed], [2, 1], 0)
    return status, np.select([is_cancelled, is_completed], [cancelled, completed], NULL)


@dataclass
class _Drafts(Arrays):
    """Contracts about to be drawn up, from a win or without a deal."""

    opportunity: np.ndarray  # NULL for a renewal
    customer: np.ndarray
    owner: np.ndarray
    created_at: np.ndarray  # NULL: never signed
    amount_cents: np.ndarray
    currency: np.ndarray
    product: np.ndarray


def _contract_rows(world: World, state: SimulatorState, drafts: _Drafts, window: Window) -> Batch:
    """The drafts created in window as contracts, with their installments and what those bring in window."""
    draws = world.draws
    drafts = drafts.take(window.holds(drafts.created_at))
    created_at, amount_cents = drafts.created_at, drafts.amount_cents
    ids = state.take_ids("contracts", len(created_at))
    signed_day = created_at // DAY
    start_day = signed_day + draws.integers("contract.start", ids, 0, 31)
    term = np.array(CONTRACT_TERM_DAYS)[draws.choice("contract.term", ids, CONTRACT_TERM_ODDS)]
    end_day = start_day + term - 1
    status, changed_at = contract_status(draws, ids, signed_day, end_day, window.until)
    if world.wukong_compatible:  # 悟空CRM counts approved contracts, whatever became of them: all stay active
        status, changed_at = np.zeros_like(status), np.full(len(ids), NULL)
    deleted, deleted_at = soft_deletes(draws, "contracts", ids, created_at, window.until)
    year = signed_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    batch = Batch()
    batch.add(
        "contracts",
        {
            "contract_id": ids,
            "contract_no": "HT-" + id_texts(year) + "-" + id_texts(ids, 6),
            "opportunity_id": drafts.opportunity,
            "customer_id": drafts.customer,
            "owner_user_id": drafts.owner,
            "amount": amount_cents / 100,
            "currency": pick(CURRENCY_CODES, drafts.currency),
            "signed_date": signed_day,
            "start_date": start_day,
            "end_date": end_day,
            "status": pick(CONTRACT_STATUSES, status),
            "created_at": created_at,
            "is_deleted": deleted,
            "updated_at": np.maximum.reduce([created_at, changed_at, np.where(deleted, deleted_at, NULL)]),
        },
    )
    installments, position, number = _installments(draws, state, ids, start_day, term, amount_cents, signed_day)
    batch.add(
        "payment_plans",
        {
            "plan_id": installments.ids,
            "contract_id": installments.contract,
            "installment_no": number + 1,
            "due_date": installments.due_day,
            "amount": installments.amount_cents / 100,
            "updated_at": created_at[position],
        },
    )
    batch.add("payments", payment_rows(draws, state, installments, window))
    batch.add("invoices", invoice_rows(draws, state, installments, window))
    batch.add(
        "satisfaction_surveys",
        survey_rows(
            draws,
            state,
            SignedContracts(ids, drafts.customer, drafts.owner, signed_day, drafts.product),
            window,
            world.wukong_compatible,
        ),
    )
    return batch


def _installments(
    draws: Draws,
    state: SimulatorState,
    contract_ids: np.ndarray,
    start_day: np.ndarray,
    term: np.ndarray,
    amount_cents: np.ndarray,
    signed_day: np.ndarray,
) -> tuple[Installments, np.ndarray, np.ndarray]:
    """1 to 4 installments two months apart, of random weights, summing exactly to the contract amount.

    Also returns each installment's position among the contracts and its number (from 0) in its contract.
    """
    count = 1 + draws.choice("contract.installments", contract_ids, INSTALLMENT_COUNT_ODDS)
    contract = np.repeat(np.arange(len(contract_ids)), count)
    number = np.arange(len(contract)) - np.repeat(np.cumsum(count) - count, count)
    spacing = np.minimum(_INSTALLMENT_SPACING_DAYS, term // count)[contract]
    weight = 1.0 + draws.uniform("contract.installment_weight", contract_ids[contract], number)
    share = weight / np.bincount(contract, weights=weight)[contract]
    cents = np.floor(amount_cents[contract] * share).astype(np.int64)
    last = np.cumsum(count) - 1
    cents[last] += amount_cents - np.bincount(contract, weights=cents, minlength=len(contract_ids)).astype(np.int64)
    installments = Installments(
        ids=state.take_ids("payment_plans", len(contract)),
        contract=contract_ids[contract],
        due_day=start_day[contract] + 15 + number * spacing,
        amount_cents=cents,
        signed_day=signed_day[contract],
        cancelled_at=cancelled_at(draws, contract_ids, signed_day)[contract],
    )
    return installments, contract, number


def payment_rows(draws: Draws, state: SimulatorState, plans: Installments, window: Window) -> Columns:
    """Receipts for installments: in full around the due date, late, in part (the rest later or never) or
    not at all; nothing after the contract is cancelled."""
    ids = plans.ids
    behaviour = draws.choice("plan.behaviour", ids, PAYMENT_BEHAVIOUR_ODDS)
    on_time_day = np.maximum(
        plans.signed_day, weekday_or_friday(plans.due_day - draws.integers("plan.early_days", ids, 0, 8))
    )
    late_day = weekday_or_monday(
        plans.due_day
        + 1
        + np.minimum(draws.exponential("plan.late_days", ids, _MEAN_DAYS_LATE), _MAX_DAYS_LATE).astype(np.int64)
    )
    part_cents = np.round(plans.amount_cents * (0.3 + 0.5 * draws.uniform("plan.part", ids))).astype(np.int64)
    first_day = np.where(behaviour == _LATE, late_day, on_time_day)
    first_cents = np.where(behaviour == _PARTIAL, part_cents, plans.amount_cents)
    rest_paid = (behaviour == _PARTIAL) & draws.bernoulli("plan.rest_paid", ids, _PARTIAL_REMAINDER_PAID)
    plan = np.concatenate([np.flatnonzero(behaviour != _MISSING), np.flatnonzero(rest_paid)])
    part = np.concatenate([np.zeros(np.sum(behaviour != _MISSING), np.int64), np.ones(np.sum(rest_paid), np.int64)])
    day = np.where(part == 0, first_day[plan], late_day[plan])
    cents = np.where(part == 0, first_cents[plan], plans.amount_cents[plan] - part_cents[plan])
    paid_at = working_time(day, draws.uniform("payment.time", ids[plan], part))
    cancelled = plans.cancelled_at[plan]
    keep = window.holds(paid_at) & ((cancelled == NULL) | (paid_at < cancelled))
    order = np.flatnonzero(keep)[np.argsort(paid_at[keep], kind="stable")]
    plan, day, cents, paid_at = plan[order], day[order], cents[order], paid_at[order]
    payment_ids = state.take_ids("payments", len(plan))
    unplanned = draws.bernoulli("payment.unplanned", payment_ids, UNPLANNED_PAYMENT_SHARE)
    deleted, deleted_at = soft_deletes(draws, "payments", payment_ids, paid_at, window.until)
    return {
        "payment_id": payment_ids,
        "contract_id": plans.contract[plan],
        "plan_id": np.where(unplanned, NULL, ids[plan]),
        "amount": cents / 100,
        "paid_date": day,
        "method": pick(PAYMENT_METHODS, draws.choice("plan.method", ids[plan], PAYMENT_METHOD_ODDS)),
        "is_deleted": deleted,
        "updated_at": np.where(deleted, deleted_at, paid_at),
    }


def invoice_rows(draws: Draws, state: SimulatorState, plans: Installments, window: Window) -> Columns:
    """Most installments are invoiced up to ten days before they are due."""
    issued_day = weekday_or_monday(
        np.maximum(plans.signed_day, plans.due_day - draws.integers("plan.invoice_days", plans.ids, 0, 11))
    )
    issued_at = working_time(issued_day, draws.uniform("plan.invoice_time", plans.ids))
    keep = (
        draws.bernoulli("plan.invoiced", plans.ids, INVOICED_INSTALLMENT_SHARE)
        & window.holds(issued_at)
        & ((plans.cancelled_at == NULL) | (issued_at < plans.cancelled_at))
    )
    ids = state.take_ids("invoices", int(keep.sum()))
    deleted, deleted_at = soft_deletes(draws, "invoices", ids, issued_at[keep], window.until)
    return {
        "invoice_id": ids,
        "contract_id": plans.contract[keep],
        "amount": plans.amount_cents[keep] / 100,
        "issued_date": issued_day[keep],
        "is_deleted": deleted,
        "updated_at": np.where(deleted, deleted_at, issued_at[keep]),
    }


def survey_rows(
    draws: Draws, state: SimulatorState, contracts: SignedContracts, window: Window, wukong_compatible: bool = False
) -> Columns:
    """A third of the customers rate the deal one to four months after signing, usually about its main product.

    悟空CRM's return visit (回访) names a contract, not a product: a compatible survey has no product and takes
    its contract's id (one survey per contract at most), which is how the 悟空CRM tables learn the contract.
    """
    surveyed_at = working_time(
        contracts.signed_day + draws.integers("contract.survey_day", contracts.ids, 20, 121),
        draws.uniform("contract.survey_time", contracts.ids),
    )
    keep = draws.bernoulli("contract.surveyed", contracts.ids, SURVEYED_CONTRACT_SHARE) & window.holds(surveyed_at)
    contract_ids = contracts.ids[keep]
    without_product = draws.bernoulli("contract.survey_without_product", contract_ids, SURVEY_WITHOUT_PRODUCT_SHARE)
    if wukong_compatible:
        without_product = np.ones(len(contract_ids), dtype=bool)
    return {
        "survey_id": contract_ids if wukong_compatible else state.take_ids("satisfaction_surveys", len(contract_ids)),
        "customer_id": contracts.customer[keep],
        "product_id": np.where(without_product, NULL, contracts.product[keep]),
        "user_id": contracts.owner[keep],
        "score": 1 + draws.choice("contract.score", contract_ids, SCORE_ODDS),
        "surveyed_at": surveyed_at[keep],
        "updated_at": surveyed_at[keep],
    }


def contracts_from_wins(world: World, state: SimulatorState, wins: Wins, window: Window) -> Batch:
    """Most wins become a contract within a week (signed on a working day), for the deal's amount and currency."""
    draws, ids = world.draws, wins.opportunity
    signed = draws.bernoulli("win.contract", ids, WINS_WITH_CONTRACT)
    day = weekday_or_monday(wins.closed_at // DAY + draws.integers("win.signing_delay", ids, 0, 8))
    created_at = np.maximum(wins.closed_at + 1800, working_time(day, draws.uniform("win.signing_time", ids)))
    drafts = _Drafts(
        ids,
        wins.customer,
        wins.owner,
        np.where(signed, created_at, NULL),
        wins.amount_cents,
        wins.currency,
        wins.product,
    )
    return _contract_rows(world, state, drafts, window)


def renewal_contracts(
    world: World, state: SimulatorState, customer_positions: np.ndarray, created_at: np.ndarray, window: Window
) -> Batch:
    """Contracts signed without an opportunity (renewals, add-ons), owned by the account's rep."""
    draws = world.draws
    customers = world.customers.take(customer_positions)
    key = customers.ids * 1_000_003 + created_at  # no contract id yet: the account and moment identify it
    value = (
        _RENEWAL_MEDIAN_VALUE
        * np.array([lv.quantity_factor for lv in LEVELS])[customers.level]
        * np.exp(0.7 * draws.normal("renewal.value", key))
    )
    currency = world.currency_of(customers.ids)
    amount_cents = np.round(value / world.fx.to_reporting(currency, created_at // DAY) * 100).astype(np.int64)
    stand_in = world.users.pick_in_region(customers.region, draws.uniform("renewal.owner", key), active_only=True)
    owner = np.where(customers.owner == NULL, stand_in, customers.owner)
    none = np.full(len(key), NULL)
    return _contract_rows(
        world, state, _Drafts(none, customers.ids, owner, created_at, amount_cents, currency, none), window
    )
