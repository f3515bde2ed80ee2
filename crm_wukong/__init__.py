"""悟空CRM 11's tables as the extract copies them (../shared/sources.md, section 悟空CRM), as data.

Only the columns the mapping to the contract reads are declared: a 悟空CRM database missing one of them
stops the run before extracting, naming it. Names and meanings are facts about 悟空CRM's public schema;
nothing of its code or DDL is copied (its licence forbids it).
"""

from crm_wukong.source import SOURCE_TABLES, source_table

__all__ = ["SOURCE_TABLES", "source_table"]
