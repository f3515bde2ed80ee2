"""The simulator's own bookkeeping, kept in the database it simulates (table _simulator_state).

It holds what `advance` needs to carry on where the last run stopped: the seed, the simulated
clock, the next id of every table and the rates the generation was sized with. The extract layer
ignores the table; it is not part of the CRM contract.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy import MetaData, delete, select
from sqlalchemy.engine import Connection

from simulator.schema import STATE_TABLE

_OPTIONAL: dict[str, object] = {
    "system": "contract",
    "wukong_compatible": False,
    "salesforce_compatible": False,
    "timezone": "Asia/Shanghai",
}


@dataclass
class SimulatorState:
    seed: int
    opportunities: int  # the scale the database was generated at
    first_day: int  # the first simulated day
    last_day: int  # the simulated clock: every event up to the end of this day has happened
    generated_last_day: int  # where the generation stopped: the business grows until then
    customers_per_day: float  # the pace of new accounts and deals at the end of the generated period
    repeat_opportunities_per_day: float
    renewals_per_day: float
    monthly_contract_target: float  # a rep's monthly targets before growth and personal factors
    monthly_payment_target: float
    monthly_new_customer_target: float
    next_ids: dict[str, int] = field(default_factory=dict)
    # Saved only when they differ from these defaults, so a contract database's state is as it always was.
    system: str = "contract"  # the shape of the CRM tables: "contract", "wukong" (悟空CRM 11) or "salesforce"
    wukong_compatible: bool = False  # the business is restricted to what 悟空CRM can hold (README)
    salesforce_compatible: bool = False  # the business is restricted to what Salesforce can hold (README)
    timezone: str = "Asia/Shanghai"  # 悟空CRM's local time: its tables hold times in this zone

    @property
    def compatible(self) -> bool:
        """Restricted to what a real CRM can hold (悟空CRM or Salesforce): one currency, no fx_rates rows, no
        marketing spend, no new-customer targets."""
        return self.wukong_compatible or self.salesforce_compatible

    def take_ids(self, table: str, count: int) -> np.ndarray:
        """Ids for count new rows of table; ids only grow, so a hard-deleted id is never reused."""
        first = self.next_ids.get(table, 1)
        self.next_ids[table] = first + count
        return np.arange(first, first + count, dtype=np.int64)

    def save(self, connection: Connection, metadata: MetaData) -> None:
        table = metadata.tables[STATE_TABLE]
        connection.execute(delete(table))
        values = {k: v for k, v in asdict(self).items() if k not in _OPTIONAL or _OPTIONAL[k] != v}
        connection.execute(table.insert(), [{"key": k, "value": json.dumps(v)} for k, v in values.items()])

    @classmethod
    def load(cls, connection: Connection, metadata: MetaData) -> SimulatorState:
        table = metadata.tables[STATE_TABLE]
        values = {key: json.loads(value) for key, value in connection.execute(select(table.c.key, table.c.value))}
        return cls(**values)
