"""Opportunities (商机) and everything that happens to them: lines, stage moves, follow-ups and the win.

A deal's whole life is planned from its id (draws.py): when it moves, where to (the next stage,
sometimes a skip or a step back, or lost, more often for channels and accounts that convert badly),
and how often its owner follows it up. Generation plays each life up to the end date; `advance`
replays open deals to the new clock and keeps the moves that fall in the new days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.catalogue import (
    BRANDS,
    CHANNELS,
    DEAL_ACTIVITIES_PER_DAY,
    DISCOUNT_FREE_SHARE,
    FIRST_STAGE_ODDS,
    LEVELS,
    LINES_PER_DEAL_ODDS,
    LOSS_REASON_ODDS_BY_STAGE,
    LOSS_REASONS,
    LOST,
    MAX_DISCOUNT_PCT,
    MAX_MOVES,
    STAGE_BACK_ODDS,
    STAGE_DWELL_DAYS,
    STAGE_LOSS_ODDS,
    STAGE_SKIP_ODDS,
    STAGES,
    STATUSES,
    TYPICAL_LINE_VALUE,
    WON,
)
from simulator.draws import Draws
from simulator.events import activity_rows, recurring, soft_deletes
from simulator.names import pick
from simulator.state import SimulatorState
from simulator.timeline import DAY, NULL, Window, weekday_or_monday, working_time
from simulator.world import CURRENCY_CODES, Arrays, World
from simulator.writer import Batch, Columns

_OWNER_KEEPS_DEAL = 0.9  # otherwise a colleague of the region works the account's deal
_SOURCE_IS_ACCOUNT_SOURCE = 0.8
_MANAGER_MOVES_STAGE = 0.1
_MAX_LOSS_ODDS = 0.9
_NO_STAGE = -1
# 悟空CRM opens every opportunity at its stage group's first status, and its opportunities have no source
# of their own (the mapping takes the customer's) and no line discount (sales_price is after discount).
_WUKONG_FIRST_STAGE = (1.0, *(0.0 for _ in FIRST_STAGE_ODDS[1:]))
_LOSS_CUMULATIVE = np.cumsum(LOSS_REASON_ODDS_BY_STAGE, axis=1) / np.sum(
    LOSS_REASON_ODDS_BY_STAGE, axis=1, keepdims=True
)


@dataclass
class Deals:
    """The facts a deal's life depends on."""

    ids: np.ndarray
    created_at: np.ndarray
    customer: np.ndarray
    owner: np.ndarray
    channel: np.ndarray  # index into CHANNELS
    level: np.ndarray  # index into LEVELS of the account
    currency: np.ndarray  # index into CURRENCY_CODES


@dataclass
class Walk:
    """Stage moves of deals (position into Deals, move number, from, to, when) and where each ended."""

    position: np.ndarray
    number: np.ndarray
    from_stage: np.ndarray
    to_stage: np.ndarray
    at: np.ndarray
    stage: np.ndarray
    last_move_at: np.ndarray
    loss_reason: np.ndarray  # index into LOSS_REASONS, -1 unless lost

    @property
    def closed_at(self) -> np.ndarray:
        return np.where(self.stage >= WON, self.last_move_at, NULL)

    def outcome(self, positions: np.ndarray | slice = slice(None), on_close_day: bool = False) -> Columns:
        """The opportunity columns a walk decides, for the deals at positions. on_close_day: a closed deal is
        booked at 00:00 of the day it closed (Salesforce keeps a close date, not a time)."""
        stage, reason = self.stage[positions], self.loss_reason[positions]
        closed_at = self.closed_at[positions]
        return {
            "stage": pick(STAGES, stage),
            "status": pick(STATUSES, np.select([stage == WON, stage == LOST], [1, 2], 0)),
            "loss_reason": np.where(reason >= 0, pick(LOSS_REASONS, np.maximum(reason, 0)), None),
            "closed_at": np.where(on_close_day & (closed_at != NULL), closed_at // DAY * DAY, closed_at),
        }


@dataclass
class Wins(Arrays):
    """Won deals, from which contracts are drawn up."""

    opportunity: np.ndarray
    closed_at: np.ndarray
    customer: np.ndarray
    owner: np.ndarray
    amount_cents: np.ndarray
    currency: np.ndarray
    product: np.ndarray  # the deal's lowest product id, the one a satisfaction survey asks about; NULL if none


def walk(draws: Draws, deals: Deals, until: int, first_stage_odds: tuple[float, ...] = FIRST_STAGE_ODDS) -> Walk:
    """Plays each deal from creation until it closes, runs out of moves, or the next move is after until."""
    ids = deals.ids
    count = len(ids)
    stage = draws.choice("deal.first_stage", ids, first_stage_odds)
    at = deals.created_at.copy()
    loss_factor = (
        np.array([c.loss_factor for c in CHANNELS])[deals.channel]
        * np.array([lv.loss_factor for lv in LEVELS])[deals.level]
    )
    moves = [(np.arange(count), np.zeros(count, np.int64), np.full(count, _NO_STAGE), stage.copy(), at.copy())]
    loss_reason = np.full(count, -1)
    active = np.arange(count)
    for number in range(1, MAX_MOVES + 1):
        current = stage[active]
        wait = 1 + draws.exponential("deal.dwell", ids[active], np.array(STAGE_DWELL_DAYS)[current], number).astype(
            np.int64
        )
        when = working_time(
            weekday_or_monday(at[active] // DAY + wait), draws.uniform("deal.move_time", ids[active], number)
        )
        due = when <= until
        active, current, when = active[due], current[due], when[due]
        if not active.size:
            break
        u = draws.uniform("deal.move", ids[active], number)
        lost = np.minimum(np.array(STAGE_LOSS_ODDS)[current] * loss_factor[active], _MAX_LOSS_ODDS)
        back = lost + np.array(STAGE_BACK_ODDS)[current]
        skip = back + np.array(STAGE_SKIP_ODDS)[current]
        to = np.select([u < lost, u < back, u < skip], [LOST, current - 1, current + 2], current + 1)
        reason_u = draws.uniform("deal.loss_reason", ids[active])
        loss_reason[active] = np.where(to == LOST, (reason_u[:, None] > _LOSS_CUMULATIVE[current]).sum(axis=1), -1)
        moves.append((active, np.full(len(active), number), current, to, when))
        stage[active], at[active] = to, when
        active = active[to < WON]
    position, number, from_stage, to_stage, move_at = (np.concatenate(parts) for parts in zip(*moves))
    return Walk(position, number, from_stage, to_stage, move_at, stage, at, loss_reason)


def _history_rows(
    draws: Draws, state: SimulatorState, world: World, deals: Deals, moves: Walk, keep: np.ndarray
) -> Columns:
    if world.wukong_compatible:  # 悟空CRM records a closing on the opportunity and a follow-up, not as a change
        keep = keep & (moves.to_stage < WON)
    order = np.flatnonzero(keep)[np.argsort(moves.at[keep], kind="stable")]
    position, number = moves.position[order], moves.number[order]
    ids = state.take_ids("opportunity_stage_history", len(order))
    owner = deals.owner[position]
    manager = world.users.manager_of(owner)
    # Salesforce's synced history names no user: a compatible business's stages are moved by the owner.
    by_manager = (
        draws.bernoulli("deal.moved_by_manager", deals.ids[position], _MANAGER_MOVES_STAGE, number)
        & (manager != NULL)
        & (not world.salesforce_compatible)
    )
    from_stage = moves.from_stage[order]
    return {
        "history_id": ids,
        "opportunity_id": deals.ids[position],
        "from_stage": np.where(from_stage == _NO_STAGE, None, pick(STAGES, np.maximum(from_stage, 0))),
        "to_stage": pick(STAGES, moves.to_stage[order]),
        "changed_at": moves.at[order],
        "changed_by_user_id": np.where(by_manager, manager, owner),
        "updated_at": moves.at[order],
    }


def _deal_activity_rows(draws: Draws, state: SimulatorState, deals: Deals, moves: Walk, window: Window) -> Columns:
    ends = np.where(moves.stage >= WON, moves.last_move_at, window.until)
    deal, occurred_at, _ = recurring(
        draws, "deal.activity", deals.ids, deals.created_at, ends, DEAL_ACTIVITIES_PER_DAY, window
    )
    return activity_rows(
        draws, state, deals.customer[deal], deals.ids[deal], deals.owner[deal], occurred_at, window.until
    )


def play(world: World, state: SimulatorState, deals: Deals, window: Window) -> tuple[Walk, Batch]:
    """The deals' stage history and follow-ups that fall in window, and where each deal stands at its end."""
    moves = walk(world.draws, deals, window.until, _WUKONG_FIRST_STAGE if world.wukong_compatible else FIRST_STAGE_ODDS)
    batch = Batch()
    batch.add(
        "opportunity_stage_history", _history_rows(world.draws, state, world, deals, moves, window.holds(moves.at))
    )
    batch.add("activities", _deal_activity_rows(world.draws, state, deals, moves, window))
    return moves, batch


def deal_amount_cents(
    deal: np.ndarray, quantity: np.ndarray, unit_cents: np.ndarray, discount: np.ndarray, deals: int
) -> np.ndarray:
    """Each deal's amount: the sum of quantity x unit price x (1 - discount/100) over its lines.

    With whole-percent discounts a line is an exact number of hundredths of a cent, so the sum is
    exact and rounded once (half up) to cents.
    """
    exact = quantity * unit_cents * (100 - discount.astype(np.int64))
    return (np.bincount(deal, weights=exact, minlength=deals).astype(np.int64) + 50) // 100


def _lines(world: World, deals: Deals) -> tuple[Columns, np.ndarray, np.ndarray]:
    """1 to 3 distinct active products per deal, priced near list in the deal's currency, with discounts.

    Returns the lines, each deal's amount in cents (the exact sum of its lines, rounded once) and its
    lowest product id.
    """
    draws, products = world.draws, world.products
    on_sale = np.flatnonzero(products.is_active)
    count = np.minimum(1 + draws.choice("deal.line_count", deals.ids, LINES_PER_DEAL_ODDS), len(on_sale))
    # Weighted sampling without replacement: the largest popularity-weighted Gumbel keys win.
    u = draws.uniform("deal.product", deals.ids[:, None], products.ids[on_sale][None, :])
    keys = np.log(products.popularity[on_sale]) - np.log(-np.log(u + 1e-300))
    ranked = on_sale[np.argsort(-keys, axis=1)[:, : count.max(initial=1)]]
    deal = np.repeat(np.arange(len(deals.ids)), count)
    line = np.arange(len(deal)) - np.repeat(np.cumsum(count) - count, count)
    product = ranked[deal, line]
    ids = deals.ids[deal]
    typical = (
        np.clip(TYPICAL_LINE_VALUE / products.list_price[product], 1, 60)
        * np.array([lv.quantity_factor for lv in LEVELS])[deals.level[deal]]
    )
    quantity = np.maximum(1, np.round(typical * np.exp(0.6 * draws.normal("deal.quantity", ids, line)))).astype(
        np.int64
    )
    rate = world.fx.to_reporting(deals.currency[deal], deals.created_at[deal] // DAY)
    unit_cents = np.round(
        products.list_price[product] / rate * (0.95 + 0.15 * draws.uniform("deal.price", ids, line)) * 100
    ).astype(np.int64)
    discount = np.where(
        draws.bernoulli("deal.discounted", ids, 1 - DISCOUNT_FREE_SHARE, line) & (not world.wukong_compatible),
        draws.integers("deal.discount", ids, 1, int(MAX_DISCOUNT_PCT) + 1, line),
        0,
    )
    amount_cents = deal_amount_cents(deal, quantity, unit_cents, discount, len(deals.ids))
    lowest = np.full(len(deals.ids), np.iinfo(np.int64).max)
    np.minimum.at(lowest, deal, products.ids[product])
    rows = {
        "opportunity_id": ids,
        "product_id": products.ids[product],
        "quantity": quantity,
        "unit_price": unit_cents / 100,
        "discount_pct": discount.astype(np.float64),
        "updated_at": deals.created_at[deal],
    }
    return rows, amount_cents, np.where(count > 0, lowest, NULL)


def new_deals(
    world: World, state: SimulatorState, customer_positions: np.ndarray, created_at: np.ndarray, window: Window
) -> tuple[Batch, Wins]:
    """Deals opened at created_at on the given accounts, with their lives up to the end of window."""
    draws = world.draws
    customers = world.customers.take(customer_positions)
    ids = state.take_ids("opportunities", len(created_at))
    colleague = world.users.pick_in_region(customers.region, draws.uniform("deal.colleague", ids), active_only=True)
    keeps = draws.bernoulli("deal.owner_keeps", ids, _OWNER_KEEPS_DEAL) & (customers.owner != NULL)
    channel = np.where(
        draws.bernoulli("deal.account_source", ids, _SOURCE_IS_ACCOUNT_SOURCE) | world.wukong_compatible,
        customers.source,
        draws.choice("deal.source", ids, [c.share for c in CHANNELS]),
    )
    deals = Deals(
        ids,
        created_at,
        customers.ids,
        np.where(keeps, customers.owner, colleague),
        channel,
        customers.level,
        world.currency_of(customers.ids),
    )
    lines, amount_cents, lowest_product = _lines(world, deals)
    moves, batch = play(world, state, deals, window)
    deleted, deleted_at = soft_deletes(draws, "opportunities", ids, created_at, window.until)
    expected_days = (np.sum(STAGE_DWELL_DAYS) * (0.6 + draws.uniform("deal.expected_close", ids))).astype(np.int64)
    outcome = moves.outcome(on_close_day=world.salesforce_compatible)
    expected_close_day = created_at // DAY + expected_days
    if world.salesforce_compatible:  # Salesforce has one close date: the expected one, then the actual one
        expected_close_day = np.where(outcome["closed_at"] != NULL, outcome["closed_at"] // DAY, expected_close_day)
    brand = pick(BRANDS, draws.integers("company.brand", customers.ids, 0, len(BRANDS)))
    batch.add(
        "opportunities",
        {
            "opportunity_id": ids,
            "customer_id": customers.ids,
            "owner_user_id": deals.owner,
            "name": brand + " " + world.products.name_of(lowest_product),
            "source": pick([c.name for c in CHANNELS], channel),
            "stage": outcome["stage"],
            "amount": amount_cents / 100,
            "currency": pick(CURRENCY_CODES, deals.currency),
            "expected_close_date": expected_close_day,
            "status": outcome["status"],
            "loss_reason": outcome["loss_reason"],
            "created_at": created_at,
            "closed_at": outcome["closed_at"],
            "is_deleted": deleted,
            "updated_at": np.maximum(moves.last_move_at, np.where(deleted, deleted_at, NULL)),
        },
    )
    batch.add("opportunity_products", lines)
    won = moves.stage == WON
    wins = Wins(
        ids[won],
        moves.last_move_at[won],
        customers.ids[won],
        deals.owner[won],
        amount_cents[won],
        deals.currency[won],
        lowest_product[won],
    )
    return batch, wins
