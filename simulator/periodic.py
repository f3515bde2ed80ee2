"""Rows the calendar produces: daily fx rates, monthly marketing spend and monthly sales targets.

Each row has a moment it is booked (a rate at 08:00 on its day, a target five days before its month,
spend on the 3rd of the next month); a window emits the rows booked inside it, so generation and
`advance` share one definition.
"""

from __future__ import annotations

import numpy as np

from simulator.catalogue import BUSINESS_GROWTH, CHANNELS, CURRENCIES, FX_CURRENCIES
from simulator.draws import Draws
from simulator.names import pick
from simulator.state import SimulatorState
from simulator.timeline import DAY, NULL, Window, add_months, month_starts
from simulator.world import FxRates, Users
from simulator.writer import Columns

_BOOKED_AT = 8 * 3600
_MEAN_REVERSION = 0.02
_MONTHLY_TARGET_GROWTH = 0.01
_TARGET_STEP = 1000.0


def growth_factor(state: SimulatorState, days: np.ndarray | int) -> np.ndarray:
    """Activity relative to the end of the generated period (1.0 there and after)."""
    span = max(state.generated_last_day - state.first_day, 1)
    progress = np.clip((np.asarray(days) - state.first_day) / span, 0.0, 1.0)
    return (1.0 + BUSINESS_GROWTH * progress) / (1.0 + BUSINESS_GROWTH)


def fx_rates(
    draws: Draws, window: Window, first_day: int, previous: dict[str, float] | None
) -> tuple[Columns, FxRates]:
    """A mean-reverting random walk per currency, continuing from the previous day's rate when given."""
    days = np.arange(first_day if window.after == NULL else window.after // DAY + 1, window.last_day + 1)
    columns: dict[str, list[np.ndarray]] = {"currency": [], "rate_date": [], "rate_to_reporting": []}
    series: dict[str, np.ndarray] = {}
    for currency in CURRENCIES:
        if currency.code not in FX_CURRENCIES:
            continue
        shocks = draws.normal(f"fx.{currency.code}", days) * currency.daily_volatility
        log_rate = np.log(previous[currency.code]) if previous else np.log(currency.rate_to_reporting)
        log_rates = np.empty(len(days))
        for i, shock in enumerate(shocks):
            log_rate += _MEAN_REVERSION * (np.log(currency.rate_to_reporting) - log_rate) + shock
            log_rates[i] = log_rate
        series[currency.code] = np.round(np.exp(log_rates), 8)
        columns["currency"].append(np.full(len(days), currency.code, dtype=object))
        columns["rate_date"].append(days)
        columns["rate_to_reporting"].append(series[currency.code])
    rows = {name: np.concatenate(parts) for name, parts in columns.items()}
    rows["updated_at"] = rows["rate_date"] * DAY + _BOOKED_AT
    return rows, FxRates(int(days[0]) if len(days) else first_day, series)


def _booked_months(
    first_day: int, window: Window, booking_delay_months: int, booking_day_offset: int
) -> tuple[np.ndarray, np.ndarray]:
    months = np.array(month_starts(first_day, window.last_day + 40), dtype=np.int64)
    booked = np.array([add_months(int(m), booking_delay_months) for m in months], dtype=np.int64) + booking_day_offset
    booked_at = booked * DAY + _BOOKED_AT
    keep = window.holds(booked_at)
    return months[keep], booked_at[keep]


def marketing_spend(draws: Draws, state: SimulatorState, window: Window) -> Columns:
    """Spend per paid channel and month, booked on the 3rd of the next month; unpaid channels have no rows."""
    months, booked_at = _booked_months(state.first_day, window, 1, 2)
    paid = [i for i, c in enumerate(CHANNELS) if c.acquisition_cost is not None]
    channel = np.repeat(paid, len(months))
    month = np.tile(months, len(paid))
    share = np.array([c.share for c in CHANNELS])[channel]
    cost = np.array([c.acquisition_cost or 0.0 for c in CHANNELS])[channel]
    month_days = np.array([add_months(int(m), 1) - int(m) for m in month], dtype=np.int64)
    noise = 0.8 + 0.4 * draws.uniform("spend.noise", month, channel)
    accounts = state.customers_per_day * growth_factor(state, month) * month_days * share
    spend_currency = np.array([c.spend_currency for c in CHANNELS], dtype=object)[channel]
    return {
        "channel": pick([c.name for c in CHANNELS], channel),
        "spend_month": month,
        "amount": np.round(accounts * cost * noise, 2),
        "currency": spend_currency,
        "updated_at": np.tile(booked_at, len(paid)),
    }


def sales_targets(draws: Draws, state: SimulatorState, users: Users, window: Window) -> Columns:
    """A target per active user and month, set five days before the month: the pace of the business
    spread over the team, grown a little each month and scaled by the rep's seniority."""
    months, booked_at = _booked_months(state.first_day, window, 0, -5)
    active = users.ids[users.is_active]
    user = np.repeat(active, len(months))
    month = np.tile(months, len(active))
    months_in = (month - state.first_day) / 30.4
    personal = (0.7 + 0.6 * draws.uniform("target.rep", user)) * (1 + _MONTHLY_TARGET_GROWTH * months_in)
    personal *= 0.9 + 0.2 * draws.uniform("target.month", user, month)

    def rounded(base: float, step: float) -> np.ndarray:
        return np.maximum(np.round(base * personal / step) * step, step)

    return {
        "user_id": user,
        "target_month": month,
        "contract_amount_target": rounded(state.monthly_contract_target, _TARGET_STEP),
        # A Salesforce quota is a contract amount only; 悟空CRM's targets are amounts only.
        "payment_amount_target": np.full(len(user), np.nan)
        if state.salesforce_compatible
        else rounded(state.monthly_payment_target, _TARGET_STEP),
        "new_customer_target": np.full(len(user), NULL)
        if state.compatible
        else rounded(state.monthly_new_customer_target, 1.0).astype(np.int64),
        "updated_at": np.tile(booked_at, len(active)),
    }
