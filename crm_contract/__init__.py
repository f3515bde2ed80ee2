"""The CRM source contract of ../shared/domain.md §1, as data.

The simulator writes databases that follow it and the extract layer reads databases that follow it;
keeping it in one module means the two can never disagree about a table, a key or a type.
"""

from crm_contract.source import SOURCE_TABLES, Column, SourceTable, source_table

__all__ = ["SOURCE_TABLES", "Column", "SourceTable", "source_table"]
