"""Simulated time: days and seconds since 1970-01-01 as int64, UTC and naive, with one null value.

Numbers rather than datetime objects keep millions of events vectorised; the writer turns them into
what each database stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

DAY = 86_400
NULL = np.iinfo(np.int64).min  # a missing id, day or timestamp; numpy's NaT has the same bits
_EPOCH = date(1970, 1, 1)
# Working hours in China (09:00-18:00, UTC+8) in UTC: reps act between 01:00 and 10:00 UTC.
_WORKDAY_START, _WORKDAY_SECONDS = 3_600, 9 * 3_600


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def to_date(day: int) -> date:
    return _EPOCH + timedelta(days=int(day))


def to_datetime(seconds: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=int(seconds))


def add_months(day: int, months: int) -> int:
    d = to_date(day)
    month_index = d.year * 12 + d.month - 1 + months
    year, month = divmod(month_index, 12)
    month_days = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - date(year, month + 1, 1)).days
    return day_number(date(year, month + 1, min(d.day, month_days)))


def month_start(day: int) -> int:
    return day_number(to_date(day).replace(day=1))


def month_starts(first_day: int, last_day: int) -> list[int]:
    """First days of every month that overlaps [first_day, last_day]."""
    months, current = [], month_start(first_day)
    while current <= last_day:
        months.append(current)
        current = add_months(current, 1)
    return months


WEEKEND_SHARE = 0.15  # of a weekend day's work that stays on the weekend (online leads, keen reps)


def is_weekend(days: np.ndarray) -> np.ndarray:
    return (days + 3) % 7 >= 5  # 1970-01-01 was a Thursday


def weekday_or_monday(days: np.ndarray) -> np.ndarray:
    """Moves weekend days to the next Monday: planned CRM work happens on working days."""
    weekday = (days + 3) % 7  # Monday is 0
    return days + np.where(weekday >= 5, 7 - weekday, 0)


def weekday_or_friday(days: np.ndarray) -> np.ndarray:
    """Moves weekend days back to the Friday before, for what must happen by a date."""
    weekday = (days + 3) % 7
    return days - np.where(weekday >= 5, weekday - 4, 0)


def mostly_weekdays(days: np.ndarray, u: np.ndarray, last_day: int) -> np.ndarray:
    """Moves most weekend days to the next Monday, unless that is after last_day."""
    monday = weekday_or_monday(days)
    return np.where((u >= WEEKEND_SHARE) & (monday <= last_day), monday, days)


def day_weights(days: np.ndarray) -> np.ndarray:
    """Each day's share of a week's work relative to an average day, as mostly_weekdays leaves it."""
    return np.where(is_weekend(days), WEEKEND_SHARE, 1.0 + 2.0 * (1.0 - WEEKEND_SHARE) / 5.0)


def working_time(days: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A moment in the working hours of each day, u in [0, 1) choosing when."""
    return days * DAY + _WORKDAY_START + (u * _WORKDAY_SECONDS).astype(np.int64)


def growing_days(u: np.ndarray, first_day: int, last_day: int, growth: float) -> np.ndarray:
    """Days in [first_day, last_day] whose density rises linearly by `growth` over the span: a growing business."""
    x = (np.sqrt(1.0 + 2.0 * growth * (1.0 + growth / 2.0) * u) - 1.0) / growth
    return first_day + np.minimum((x * (last_day - first_day + 1)).astype(np.int64), last_day - first_day)


@dataclass(frozen=True)
class Window:
    """The stretch of simulated time whose events are emitted: after < t <= until (seconds)."""

    after: int
    until: int

    @classmethod
    def through_day(cls, last_day: int, after_day: int | None = None) -> Window:
        """From the end of after_day (or the beginning of time) to the end of last_day."""
        return cls(NULL if after_day is None else (after_day + 1) * DAY - 1, (last_day + 1) * DAY - 1)

    def holds(self, seconds: np.ndarray) -> np.ndarray:
        return (seconds > self.after) & (seconds <= self.until)

    @property
    def last_day(self) -> int:
        return self.until // DAY
