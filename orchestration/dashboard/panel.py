"""What one dashboard panel holds, and how its numbers are printed.

A panel is a chart (a matplotlib Figure, saved as a PNG and inlined in the page), a table of the figures
behind it, and optionally headline numbers. Numbers are printed by the helpers here so that the page and
the PNGs agree, and each headline carries the mart column it came from (`data-metric` in the page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

Number = int | float | Decimal


@dataclass(frozen=True)
class Headline:
    label: str
    metric: str  # the mart column the value comes from
    text: str


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Panel:
    key: str  # the PNG's file name and the page section's id
    title: str
    caption: str  # what it shows and which mart it reads
    figure: Figure
    table: Table
    headlines: list[Headline] = field(default_factory=list)


def money(value: Number | None) -> str:
    return "–" if value is None else f"{float(value):,.2f}"


def count(value: Number | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def rate(value: Number | None) -> str:
    """A fraction (0.843) as a percentage (84.3%); a rate with no denominator is null and printed as –."""
    return "–" if value is None else f"{float(value) * 100:.1f}%"


def days(value: Number | None) -> str:
    return "–" if value is None else f"{float(value):.1f}"


def day(value: date | None) -> str:
    return "–" if value is None else value.isoformat()


def new_figure(rows: int = 1, columns: int = 1, *, width: float = 9.0, height: float = 4.2) -> tuple[Figure, list]:
    """A figure with a grid of axes, drawn without pyplot (no GUI backend, no global state)."""
    figure = Figure(figsize=(width, height), dpi=100, layout="tight")  # draws faster than "constrained"
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, [axis for row in axes for axis in row]


def thousands(axis, which: str = "y") -> None:
    """Money ticks as 125,000 rather than 1.25e5."""
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(StrMethodFormatter("{x:,.0f}"))
