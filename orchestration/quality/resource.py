"""The quality resource: the gates' settings, and the as-of date that gate 1 and the extract's watermark cap share.

Its own module, apart from the checks, so that the extract (which the checks import) can use it too.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from orchestration.quality.gate_config import GateConfig, read_gate_config
from orchestration.quality.parameters import as_of_end


class QualityResource(dg.ConfigurableResource):
    """What the gates read (gates.yml), where they write Data Docs, and the as-of date they judge dates by."""

    docs_dir: str
    docs_keep_days: int
    gates_path: str
    freshness_hours: int  # CRM_FRESHNESS_HOURS, for the suites gates.yml does not override
    as_of_date: str  # YYYY-MM-DD; empty: today (UTC)
    reporting_currency: str
    # The zone of the source's local times (悟空CRM: CRM_SOURCE_TIMEZONE), where gate 1 judges its dates against the
    # as-of date; empty for a source writing UTC (the contract).
    source_timezone: str = ""
    # The one currency of a source whose amounts carry none (悟空CRM: CRM_SOURCE_CURRENCY): fx_rates must have rates for
    # it unless it is the reporting currency. Empty for the contract, whose rows name their currencies.
    source_currency: str = ""

    def as_of(self) -> date:
        return date.fromisoformat(self.as_of_date) if self.as_of_date else datetime.now(UTC).date()

    def gates(self) -> GateConfig:
        return read_gate_config(Path(self.gates_path), freshness_hours=self.freshness_hours)

    def as_of_end(self) -> datetime:
        """The first instant after the as-of date: gate 1's `*_not_after_as_of` bound, and the watermarks' cap."""
        return as_of_end(self.as_of())
