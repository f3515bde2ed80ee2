"""Salesforce's objects as a sync tool lands them in a database (Fivetran's schema), as the extract copies them
(../shared/sources.md, section Salesforce), as data.

Only the columns the mapping to the contract reads are declared: a synced database missing one of them stops the
run before extracting, naming the Salesforce object. Optional objects (quotas, dated and plain conversion rates)
may be absent: raw then gets them empty and the run says so once.
"""

from crm_salesforce.source import OPTIONAL_TABLES, SOURCE_TABLES, source_table, with_loss_reason_field

__all__ = ["OPTIONAL_TABLES", "SOURCE_TABLES", "source_table", "with_loss_reason_field"]
