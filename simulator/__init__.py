"""The CRM the product ships with: generate a history, advance its clock, inject dirty data.

generate("sqlite:///data/crm.sqlite", opportunities=10_000, seed=42)
advance("sqlite:///data/crm.sqlite", days=1)
inject("sqlite:///data/crm.sqlite", "orphan_foreign_keys", table="opportunities")
"""

from simulator.advance import advance
from simulator.defects import DEFECTS, inject
from simulator.generate import generate
from simulator.summary import InjectedDefect, SimulationSummary

__all__ = ["DEFECTS", "InjectedDefect", "SimulationSummary", "advance", "generate", "inject"]
