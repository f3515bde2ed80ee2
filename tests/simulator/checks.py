"""Checks that hold after a generation and after any number of advances."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

Rows = Callable[[str], list[dict]]


def by(rows: list[dict], key: str) -> dict:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def assert_stage_histories_chain_to_the_current_stage(rows: Rows) -> None:
    history = by(
        sorted(rows("opportunity_stage_history"), key=lambda r: (r["changed_at"], r["history_id"])), "opportunity_id"
    )
    deals = {d["opportunity_id"]: d for d in rows("opportunities")}
    assert set(history) == set(deals)
    for deal_id, moves in history.items():
        deal = deals[deal_id]
        assert moves[0]["from_stage"] is None and moves[0]["changed_at"] == deal["created_at"]
        for before, after in zip(moves, moves[1:]):
            assert after["from_stage"] == before["to_stage"] and after["changed_at"] > before["changed_at"]
        assert moves[-1]["to_stage"] == deal["stage"]
        if deal["closed_at"]:
            assert moves[-1]["changed_at"] == deal["closed_at"]


def assert_deal_amounts_are_the_sums_of_their_lines(rows: Rows) -> None:
    lines = by(rows("opportunity_products"), "opportunity_id")
    for deal in rows("opportunities"):
        deal_lines = lines[deal["opportunity_id"]]
        assert 1 <= len(deal_lines) <= 3
        assert len({line["product_id"] for line in deal_lines}) == len(deal_lines)
        exact = sum(line["quantity"] * line["unit_price"] * (1 - line["discount_pct"] / 100) for line in deal_lines)
        assert abs(deal["amount"] - exact) <= Decimal("0.005"), deal["opportunity_id"]
        assert all(0 <= line["discount_pct"] <= 30 and line["quantity"] >= 1 for line in deal_lines)
