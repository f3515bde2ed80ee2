"""The quality resource: the gates' settings, and the as-of date that gate 1 and the extract's watermark cap share.

Its own module, apart from the checks, so that the extract (which the checks import) can use it too.
"""

from datetime import date, datetime, timezone

import dagster as dg

from orchestration.quality.parameters import as_of_end


class QualityResource(dg.ConfigurableResource):
    """What the gates read (gates.yml), where they write Data Docs, and the as-of date they judge dates by."""

    docs_dir: str
    docs_keep_days: int = 30
    gates_path: str
    as_of_date: str = ""  # YYYY-MM-DD; empty: today (UTC)
    reporting_currency: str = "USD"

    def as_of(self) -> date:
        return date.fromisoformat(self.as_of_date) if self.as_of_date else datetime.now(timezone.utc).date()

    def as_of_end(self) -> datetime:
        """The first instant after the as-of date: gate 1's `*_not_after_as_of` bound, and the watermarks' cap."""
        return as_of_end(self.as_of())
