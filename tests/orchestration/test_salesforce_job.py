"""crm_elt on a simulated Salesforce org (issue 22 §4): one business in the contract shape and as Fivetran syncs
Salesforce publishes the same marts, after a daily delta and after a full rebuild; Salesforce's own defects are
handled where sources.md says.

`crm-simulator generate --system salesforce` writes the synced tables beside the contract record of the same
business (restricted to what Salesforce holds: contracts are the won opportunities, no payments, one currency).
The mapping derives integer keys from the 18-character ids, so the contract run reads that record keyed the same
way (tests/support/salesforce_db.py); every published model must then be equal, but for the `*_source_id` columns,
which hold the Salesforce ids in one shape and the keys as text in the other (checked on their own).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

import simulator
from simulator.salesforce import LOSS_REASON_FIELD, contract_id_of
from tests.orchestration.test_wukong_equivalence import SharedSourcePipeline, run
from tests.support.pipeline import AS_OF, Pipeline, table_fingerprints
from tests.support.salesforce_db import key_of, keyed_as_salesforce, source_id_key

OPPORTUNITIES = 150
SEED = 8


@dataclass(frozen=True)
class SalesforcePipeline(SharedSourcePipeline):
    """Reads the loss reason from the custom field the simulated org has."""

    def environment(self) -> dict[str, str]:
        return {**super().environment(), "CRM_SALESFORCE_LOSS_REASON_FIELD": LOSS_REASON_FIELD}


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
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[SharedSourcePipeline, SalesforcePipeline]:
    root = tmp_path_factory.mktemp("salesforce_job")
    source = root / "salesforce.sqlite"
    simulator.generate(
        f"sqlite:///{source}", opportunities=OPPORTUNITIES, seed=SEED, end_date=AS_OF, system="salesforce", quiet=True
    )
    contract = SharedSourcePipeline(
        root / "contract", source_file=keyed_as_salesforce(source, root / "contract.sqlite"), system="contract"
    )
    salesforce = SalesforcePipeline(root / "salesforce", source_file=source, system="salesforce")
    for pipeline in (contract, salesforce):
        pipeline.data_dir.mkdir()
        run(pipeline)
    return contract, salesforce


def test_the_first_run_publishes_the_same_marts_from_both_shapes(twins) -> None:
    contract, salesforce = twins
    assert_same_marts(contract, salesforce)
    with duckdb.connect(str(salesforce.published_path), read_only=True) as con:
        deals = con.execute("select opportunity_id, opportunity_source_id from marts.fct_opportunities").fetchall()
    assert deals and all(len(source) == 18 and source.startswith("006") for _, source in deals)
    assert all(key == source_id_key(source) for key, source in deals)  # the key derives from the id


def test_a_daily_delta_then_a_full_rebuild_publish_the_same_marts(twins) -> None:
    """A day on the org (the sync's rows for it), with an opportunity re-priced (an amount-only history row, which
    is no stage change) and one deleted from the org (kept by the sync with _fivetran_deleted): the contract record
    gets the same day and the same two edits, and both shapes publish the same marts, incrementally and rebuilt."""
    contract, salesforce = twins
    day = simulator.advance(salesforce.source_url, days=1).last_day  # the org and its contract record move together
    repriced = simulator.inject(salesforce.source_url, "amount_only_history", count=2, seed=1)
    deleted = simulator.inject(salesforce.source_url, "fivetran_deleted", count=2, seed=2)
    keyed_as_salesforce(salesforce.source_file, contract.source_file)
    mirror_in_contract_record(salesforce.source_file, contract.source_file, repriced.keys, deleted.keys)
    contract, salesforce = contract.on(day), salesforce.on(day)
    run(contract)
    run(salesforce)
    assert_same_marts(contract, salesforce)

    run(salesforce, "--full-refresh")  # what the weekly full-refresh schedule runs

    assert_same_marts(contract, salesforce)


def mirror_in_contract_record(synced: Path, record: Path, repriced: tuple, deleted: tuple) -> None:
    """What the two defects mean in the contract, written into the keyed record: the re-priced opportunities' new
    amount, the deleted ones (and their contracts) deleted; stamped as the sync stamped them."""
    opportunity = key_of("opportunity")
    with sqlite3.connect(synced) as source, sqlite3.connect(record) as target:
        for (salesforce_id,) in repriced:
            amount, synced_at = source.execute(
                "select amount, _fivetran_synced from opportunity where id = ?", [salesforce_id]
            ).fetchone()
            target.execute(
                "update opportunities set amount = ?, updated_at = ? where opportunity_id = ?",
                [amount, synced_at, opportunity(contract_id_of(salesforce_id))],
            )
        for (salesforce_id,) in deleted:
            (synced_at,) = source.execute(
                "select _fivetran_synced from opportunity where id = ?", [salesforce_id]
            ).fetchone()
            key = opportunity(contract_id_of(salesforce_id))
            for table, column in (("opportunities", "opportunity_id"), ("contracts", "contract_id")):
                target.execute(
                    f"update {table} set is_deleted = 1, updated_at = ? where {column} = ?", [synced_at, key]
                )
