"""crm_elt on a simulated Salesforce org (issue 22 §4): one business in the contract shape and as Fivetran syncs
Salesforce publishes the same marts, after a daily delta and after a full rebuild; Salesforce's own defects are
handled where sources.md says.

`crm-simulator generate --system salesforce` writes the synced tables beside the contract record of the same
business (restricted to what Salesforce holds: contracts are the won opportunities, no payments, one currency).
The mapping derives integer keys from the 18-character ids, so the contract run reads that record keyed the same
way (tests/support/salesforce_keys.py); every published model must then be equal, but for the `*_source_id` columns,
which hold the Salesforce ids in one shape and the keys as text in the other (checked on their own).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

import simulator
from orchestration.source_system import SALESFORCE, source_system
from simulator.salesforce import contract_id_of
from tests.orchestration.test_wukong_equivalence import SharedSourcePipeline, run
from tests.support.pipeline import AS_OF, Pipeline, table_fingerprints
from tests.support.salesforce_keys import keyed_as_salesforce, source_id_key

REPO = Path(__file__).resolve().parents[2]
OPPORTUNITIES = 150
SEED = 8


@dataclass(frozen=True)
class Twin(SharedSourcePipeline):
    """A shape of the one business, with the settings it needs."""

    settings: tuple[tuple[str, str], ...] = ()

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **dict(self.settings)}


def contract_gates(folder: Path) -> Path:
    """The shipped gates, but a contract rule Salesforce's data cannot meet warns (its rows stay): sources.md maps
    Salesforce's events to the activity type `event` (and tasks without a subtype to `task`), which the contract's
    list lacks."""
    gates = yaml.safe_load((REPO / "expectations" / "gates.yml").read_text())
    for suite, rule in ():  # none: the contract knows `event` and `task` (docs/sources.md, "Activity types")
        gates.setdefault("suites", {}).setdefault(suite, {}).setdefault("severity", {})[rule] = "WARN"
    path = folder / "gates.yml"
    path.write_text(yaml.safe_dump(gates, allow_unicode=True))
    return path


def published_marts(pipeline: Pipeline) -> dict[str, tuple]:
    return table_fingerprints(pipeline.published_path, "marts", without_suffix="_source_id")


def assert_same_marts(contract: Pipeline, salesforce: Pipeline) -> None:
    ours, theirs = published_marts(contract), published_marts(salesforce)
    assert sorted(theirs) == sorted(ours)
    differing = sorted(name for name in ours if ours[name] != theirs[name])
    assert not differing, f"published models that differ between the contract and the Salesforce shape: {differing}"
    filled = {name for name, (rows, _) in ours.items() if rows}
    assert {"fct_opportunities", "fct_contracts", "fct_activities"} <= filled, sorted(filled)
    assert sum(rows for rows, _ in ours.values()) > 1000, "the business fills the marts: the comparison means something"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Twin, Twin]:
    root = tmp_path_factory.mktemp("salesforce_job")
    source = root / "salesforce.sqlite"
    simulator.generate(
        f"sqlite:///{source}", opportunities=OPPORTUNITIES, seed=SEED, end_date=AS_OF, system="salesforce", quiet=True
    )
    contract = Twin(
        root / "contract",
        source_file=keyed_as_salesforce(source, root / "contract.sqlite"),
        system="contract",
        settings=(("CRM_QUALITY_GATES", str(contract_gates(root))),),
    )
    # The org's loss-reason custom field, declared by the setting: the extract lands it and dbt maps it.
    salesforce = Twin(
        root / "salesforce",
        source_file=source,
        system="salesforce",
        settings=(("CRM_SALESFORCE_LOSS_REASON_FIELD", "loss_reason_c"),),
    )
    shutil.copy(source, root / "pristine.sqlite")  # for the defect tests, which damage copies
    for pipeline in (contract, salesforce):
        pipeline.data_dir.mkdir()
        run(pipeline)
    return contract, salesforce


@pytest.fixture
def damaged(twins, tmp_path: Path) -> Twin:
    """A copy of the org as generated, in a data folder of its own, for one defect."""
    salesforce = twins[1]
    copy = tmp_path / "salesforce.sqlite"
    shutil.copy(salesforce.source_file.with_name("pristine.sqlite"), copy)
    return replace(salesforce, data_dir=tmp_path / "data", source_file=copy)


def run_to_raw(pipeline: Twin) -> dg.ExecuteInProcessResult:
    """crm_elt up to raw (landing and gate 1), in-process: the defects below concern gate 1."""
    names = [table.name for table in source_system(SALESFORCE).tables]
    return pipeline.run(asset_selection=[dg.AssetKey([layer, name]) for name in names for layer in ("landing", "raw")])


def failed_checks(result: dg.ExecuteInProcessResult) -> list[tuple[str, str, dg.AssetCheckSeverity]]:
    return sorted(
        (e.asset_key.path[-1], e.check_name, e.severity) for e in result.get_asset_check_evaluations() if not e.passed
    )


def test_a_duplicated_id_warns_at_gate_1_and_lands_once(damaged) -> None:
    """Copies of an id collapse to the newest on landing; gate 1 says so and the run goes on."""
    injected = simulator.inject(damaged.source_url, "duplicated_ids", count=2)
    result = run_to_raw(damaged)
    assert result.success
    failed = failed_checks(result)
    assert ("opportunity", "source_keys_unique", dg.AssetCheckSeverity.WARN) in failed
    assert {severity for *_, severity in failed} == {dg.AssetCheckSeverity.WARN}  # (fx_rates: no file dropped)
    with duckdb.connect(str(damaged.warehouse_path), read_only=True) as con:
        ids = [i for (i,) in injected.keys]
        landed = con.execute("select count(*) from raw.opportunity where id in (select unnest(?))", [ids]).fetchone()
    assert landed == (2,)


def test_an_unknown_stage_name_stops_the_run_at_gate_1(damaged) -> None:
    simulator.inject(damaged.source_url, "unknown_stage_names", count=2)
    result = run_to_raw(damaged)
    assert not result.success
    assert ("opportunity", "stage_name_in_catalogue", dg.AssetCheckSeverity.ERROR) in failed_checks(result)


def test_the_first_run_publishes_the_same_marts_from_both_shapes(twins) -> None:
    contract, salesforce = twins
    assert_same_marts(contract, salesforce)
    with duckdb.connect(str(salesforce.published_path), read_only=True) as con:
        deals = con.execute("select opportunity_id, opportunity_source_id from marts.fct_opportunities").fetchall()
    assert deals and all(len(source) == 18 and source.startswith("006") for _, source in deals)
    assert all(key == source_id_key(source) for key, source in deals)  # the key derives from the id


def test_a_daily_delta_then_a_full_rebuild_publish_the_same_marts(twins) -> None:
    """A day on the org, with opportunities re-priced (an amount-only history row each, which is no stage change)
    and opportunities deleted from the org (kept by the sync with _fivetran_deleted): the daily run publishes what
    the full rebuild publishes, and the edits mean in the marts what they mean in the contract."""
    _, salesforce = twins
    day = simulator.advance(salesforce.source_url, days=1).last_day
    repriced = simulator.inject(salesforce.source_url, "amount_only_history", count=2, seed=1)
    deleted = simulator.inject(salesforce.source_url, "fivetran_deleted", count=2, seed=2)
    salesforce = salesforce.on(day)
    run(salesforce)
    daily = published_marts(salesforce)
    deals = published_deals(salesforce)
    # the amount-only rows changed no stage: as many stage changes as the contract record has
    assert stage_changes(salesforce, repriced.keys) == recorded_stage_changes(salesforce, repriced.keys) > 0
    assert all(deals[key][1] == amount_of(salesforce, key) for (key,) in repriced.keys)
    assert not {key for (key,) in deleted.keys} & set(deals), "an opportunity gone from the org is gone from the marts"

    run(salesforce, "--full-refresh")  # what the weekly full-refresh schedule runs

    assert published_marts(salesforce) == daily


def published_deals(pipeline: Pipeline) -> dict[str, tuple]:
    """Published opportunities by Salesforce id: (key, amount)."""
    with duckdb.connect(str(pipeline.published_path), read_only=True) as con:
        rows = con.execute("select opportunity_source_id, opportunity_id, amount from marts.fct_opportunities")
        return {source: (key, float(amount)) for source, key, amount in rows.fetchall()}


def amount_of(pipeline: Twin, salesforce_id: str) -> float:
    with sqlite3.connect(pipeline.source_file) as source:
        return float(source.execute("select amount from opportunity where id = ?", [salesforce_id]).fetchone()[0])


def stage_changes(pipeline: Pipeline, opportunities: tuple) -> int:
    """Published stage changes of the opportunities (Salesforce ids)."""
    keys = [source_id_key(salesforce_id) for (salesforce_id,) in opportunities]
    with duckdb.connect(str(pipeline.published_path), read_only=True) as con:
        return con.execute(
            "select count(*) from marts.fct_opportunity_stage_history where opportunity_id in (select unnest(?))",
            [keys],
        ).fetchone()[0]


def recorded_stage_changes(pipeline: Twin, opportunities: tuple) -> int:
    """The stage changes of the opportunities in the simulator's contract record."""
    numbers = [contract_id_of(salesforce_id) for (salesforce_id,) in opportunities]
    with sqlite3.connect(pipeline.source_file) as source:
        return source.execute(
            f"select count(*) from opportunity_stage_history where opportunity_id in ({', '.join('?' * len(numbers))})",
            numbers,
        ).fetchone()[0]
