"""Which CRM the extract reads (CRM_SOURCE_SYSTEM), and the tables that choice puts in raw.

Each system declares its tables as data beside this package (crm_contract/, crm_wukong/, crm_salesforce/);
everything that walks tables (the extract's assets, gate 1, the file drops, the source check) asks here, so that a
system is one declaration, not a branch in every module. Table names never collide across systems (悟空CRM's start
with `wk_`; Salesforce's are singular object names: `opportunity`, `user`), so a raw table's name alone says which
declaration it comes from (a test checks it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import crm_contract
import crm_salesforce
import crm_wukong
from crm_contract import SourceTable
from crm_contract.source import find_table

CONTRACT = "contract"
WUKONG = "wukong"
SALESFORCE = "salesforce"

# The contract tables no CRM database holds: they come from file drops (orchestration/file_drops.py) in every
# system that is not the contract itself. dbt reads them as source('crm', ...) whatever the system, so they must
# exist in raw, empty until a file is dropped.
FILE_DROP_TABLES = ("fx_rates", "marketing_spend")


@dataclass(frozen=True)
class SourceSystem:
    """One CRM the extract can read: its name (CRM_SOURCE_SYSTEM), how people call it, and its tables."""

    name: str
    label: str  # named in errors: "悟空CRM table 'wk_crm_contract' ...", "Salesforce table 'opportunity' ..."
    database_tables: tuple[SourceTable, ...]  # read from CRM_SOURCE_URL
    file_drop_tables: tuple[SourceTable, ...]  # only ever loaded from dropped files (empty otherwise)

    @property
    def tables(self) -> tuple[SourceTable, ...]:
        """Every table this system puts in raw, in extract order."""
        return self.database_tables + self.file_drop_tables

    def table(self, name: str) -> SourceTable:
        return find_table(self.tables, name, f"a table of {self.label}")

    def reads_database(self, table: SourceTable) -> bool:
        return table in self.database_tables


SOURCE_SYSTEMS: dict[str, SourceSystem] = {
    CONTRACT: SourceSystem(
        name=CONTRACT,
        label="the contract-shaped CRM (domain.md §1)",
        database_tables=crm_contract.SOURCE_TABLES,
        file_drop_tables=(),
    ),
    WUKONG: SourceSystem(
        name=WUKONG,
        label="悟空CRM",
        database_tables=crm_wukong.SOURCE_TABLES,
        file_drop_tables=tuple(crm_contract.source_table(name) for name in FILE_DROP_TABLES),
    ),
    SALESFORCE: SourceSystem(
        name=SALESFORCE,
        label="Salesforce",
        database_tables=crm_salesforce.SOURCE_TABLES,
        file_drop_tables=tuple(crm_contract.source_table(name) for name in FILE_DROP_TABLES),
    ),
}


def source_system(name: str) -> SourceSystem:
    """The system's declared tables; Salesforce's opportunity with the org's loss-reason custom field when
    CRM_SALESFORCE_LOSS_REASON_FIELD names one (the extract copies declared columns only, and dbt reads that one;
    a source without it stops at the source check, naming it). Settings has refused any other form of the name."""
    try:
        system = SOURCE_SYSTEMS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a source system; expected one of {sorted(SOURCE_SYSTEMS)}") from None
    loss_reason_field = os.environ.get("CRM_SALESFORCE_LOSS_REASON_FIELD", "").strip()
    if name == SALESFORCE and loss_reason_field:
        return replace(system, database_tables=crm_salesforce.with_loss_reason_field(loss_reason_field))
    return system


def any_table(name: str) -> SourceTable:
    """A raw table's declaration, whichever system it belongs to (gate 1's suites are named by table)."""
    for system in SOURCE_SYSTEMS.values():
        for table in system.tables:
            if table.name == name:
                return table
    raise KeyError(
        f"{name!r} is not a table of any source system; expected one of "
        f"{sorted({t.name for s in SOURCE_SYSTEMS.values() for t in s.tables})}"
    )
