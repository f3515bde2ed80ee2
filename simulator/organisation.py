"""The seller's side, generated once: the department tree, its people and the product list."""

from __future__ import annotations

import numpy as np

from simulator.catalogue import CITIES, HEADQUARTERS_REGION, PRODUCTS, REGIONS
from simulator.draws import Draws
from simulator.names import people, pick
from simulator.timeline import DAY, NULL, working_time
from simulator.world import Products, Users
from simulator.writer import Columns

_HEADQUARTERS = REGIONS.index(HEADQUARTERS_REGION)
_REGION_WEIGHTS = np.array([sum(c.weight for c in CITIES if c.region == region) for region in REGIONS])
_REPS_PER_TEAM = 12
_MAX_TEAMS = 14  # with headquarters and one department per region: at most 20 departments
_ACTIVE_REP_SHARE = 0.95
_ACTIVE_PRODUCT_SHARE = 0.9


def _departments(user_count: int, first_day: int) -> tuple[Columns, np.ndarray]:
    """Headquarters, a department per region, and teams under the regions as the sales force grows."""
    team_count = min(_MAX_TEAMS, max(0, (user_count - 1 - len(REGIONS)) // _REPS_PER_TEAM))
    team_regions = np.argsort(-_REGION_WEIGHTS, kind="stable")[np.arange(team_count) % len(REGIONS)]
    names = ["Sales Headquarters", *(f"{region} Sales" for region in REGIONS)]
    team_numbers = np.zeros(len(REGIONS), dtype=int)
    for region in team_regions:
        team_numbers[region] += 1
        names.append(f"{REGIONS[region]} Sales Team {team_numbers[region]}")
    ids = np.arange(1, len(names) + 1, dtype=np.int64)
    region = np.concatenate([[_HEADQUARTERS], np.arange(len(REGIONS)), team_regions]).astype(np.int64)
    parent = np.concatenate([[NULL], np.ones(len(REGIONS), dtype=np.int64), 2 + team_regions]).astype(np.int64)
    columns = {
        "department_id": ids,
        "name": np.array(names, dtype=object),
        "parent_department_id": parent,
        "updated_at": np.full(len(ids), (first_day - 400) * DAY + 2 * 3600, dtype=np.int64),
    }
    return columns, region


def build_organisation(draws: Draws, user_count: int, first_day: int, last_day: int) -> tuple[Columns, Columns, Users]:
    """Every department has a leader (its first user) reporting to the parent's leader; reps report to
    their team's leader and sell in its region."""
    departments, department_region = _departments(user_count, first_day)
    parent = departments["parent_department_id"]
    department_count = len(parent)
    user_count = max(user_count, department_count + 1)
    ids = np.arange(1, user_count + 1, dtype=np.int64)
    # User n leads department n, so a department's id is also its leader's id.
    leaves = np.setdiff1d(departments["department_id"], parent)
    leaf_regions = department_region[leaves - 1]
    leaf_weights = _REGION_WEIGHTS[leaf_regions] / np.bincount(leaf_regions, minlength=len(REGIONS))[leaf_regions]
    rep_departments = leaves[draws.choice("user.department", ids[department_count:], leaf_weights)]
    department = np.concatenate([departments["department_id"], rep_departments])
    manager = np.concatenate([parent, rep_departments])
    is_active = (ids <= department_count) | ~draws.bernoulli("user.leaves", ids, 1 - _ACTIVE_REP_SHARE)
    hired_at = working_time(
        first_day - draws.integers("user.hired", ids, 30, 2500), draws.uniform("user.hired_time", ids)
    )
    left_at = working_time(
        draws.integers("user.left", ids, first_day, last_day + 1), draws.uniform("user.left_time", ids)
    )
    names, emails = people(draws, "user", ids, "crm-sim.example.com")
    region = department_region[department - 1]
    users = {
        "user_id": ids,
        "name": names,
        "email": emails,
        "department_id": department,
        "manager_user_id": manager,
        "region": pick(REGIONS, region),
        "hired_at": hired_at,
        "is_active": is_active,
        "updated_at": np.where(is_active, hired_at, left_at),
    }
    return departments, users, Users(ids, region, manager, is_active)


def build_products(draws: Draws, count: int, first_day: int) -> tuple[Columns, Products]:
    ids = np.arange(1, min(count, len(PRODUCTS)) + 1, dtype=np.int64)
    catalogue = PRODUCTS[: len(ids)]
    list_price = np.array([p.list_price for p in catalogue])
    is_active = ~draws.bernoulli("product.retired", ids, 1 - _ACTIVE_PRODUCT_SHARE)
    columns = {
        "product_id": ids,
        "name": np.array([p.name for p in catalogue], dtype=object),
        "category": np.array([p.category for p in catalogue], dtype=object),
        "list_price": list_price,
        "is_active": is_active,
        "updated_at": working_time(
            first_day - draws.integers("product.updated", ids, 1, 365), draws.uniform("product.time", ids)
        ),
    }
    return columns, Products(ids, columns["name"], list_price, product_popularity(draws, ids), is_active)


def product_popularity(draws: Draws, ids: np.ndarray) -> np.ndarray:
    """Relative odds of a product appearing on a deal: a property of the product, stored nowhere."""
    return 0.3 + draws.uniform("product.popularity", ids)
