"""The CRM the product ships with: generate a history, advance its clock, inject dirty data.

generate("sqlite:///data/crm.sqlite", opportunities=10_000, seed=42)
advance("sqlite:///data/crm.sqlite", days=1)
inject("sqlite:///data/crm.sqlite", "orphan_foreign_keys", table="opportunities")
generate("sqlite:///data/wukong.sqlite", opportunities=10_000, seed=42, system="wukong")  # 悟空CRM 11's tables
"""

from simulator.advance import advance
from simulator.defects import DEFECTS, WUKONG_DEFECTS, inject
from simulator.generate import generate
from simulator.summary import InjectedDefect, SimulationSummary

__all__ = ["DEFECTS", "WUKONG_DEFECTS", "InjectedDefect", "SimulationSummary", "advance", "generate", "inject"]
