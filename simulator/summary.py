"""What a generation or an advance did, for the caller and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crm_contract import SOURCE_TABLES
from crm_salesforce import SOURCE_TABLES as SALESFORCE_TABLES
from crm_wukong import SOURCE_TABLES as WUKONG_TABLES


@dataclass(frozen=True)
class InjectedDefect:
    """One kind of dirty data written on purpose, with the rows it touched so a test can look for them."""

    defect: str
    table: str
    keys: tuple[tuple, ...]  # primary keys of the affected rows (as they are after the injection)
    column: str | None
    description: str


@dataclass(frozen=True)
class SimulationSummary:
    first_day: date  # the simulated days this run covered
    last_day: date
    inserted: dict[str, int]  # rows per table
    updated: dict[str, int] = field(default_factory=dict)
    defects: tuple[InjectedDefect, ...] = ()

    def __str__(self) -> str:
        lines = [f"simulated {self.first_day} to {self.last_day}", f"{'table':<28}{'inserted':>12}{'updated':>10}"]
        written = {*self.inserted, *self.updated}
        # The tables of the shape written (the system's own tables for a 悟空CRM or Salesforce database).
        shape = next(
            (tables for tables in (WUKONG_TABLES, SALESFORCE_TABLES) if written & {t.name for t in tables}),
            SOURCE_TABLES,
        )
        for table in shape:
            lines.append(
                f"{table.name:<28}{self.inserted.get(table.name, 0):>12,}{self.updated.get(table.name, 0):>10,}"
            )
        lines.extend(f"defect {d.defect}: {d.description}" for d in self.defects)
        return "\n".join(lines)
