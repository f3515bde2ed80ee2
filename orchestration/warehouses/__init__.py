"""One object per warehouse target (CRM_WAREHOUSE_TARGET), behind one interface: adding a target is one module here.

The steps of the job (extract, the gates, dbt, publish) never ask which target they run on: they ask the target's
Warehouse for what they need from it, and WarehouseResource (orchestration/resources.py) builds that object once,
from the settings, for the run.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Protocol

from orchestration.names import MARTS_SCHEMA

if TYPE_CHECKING:
    import dagster as dg

    from orchestration.incremental_load import RawLoader
    from orchestration.quality.validation import GeConnection
    from orchestration.warehouse_sql import SqlSession

# Each is a module of this package defining WAREHOUSE, and an output of dbt_project/profiles.yml.
WAREHOUSE_TARGETS = ("duckdb", "postgres", "spark")
DEFAULT_WAREHOUSE_TARGET = "duckdb"  # the embedded default: one file, no server


class Warehouse(Protocol):
    """What the job's steps need from the warehouse a target names."""

    target: str  # CRM_WAREHOUSE_TARGET, and dbt's --target
    # Where dbt builds the published models, and where gate 2 and publish read them (settings.marts_build_schema).
    build_schema: str
    marts_schema: str  # this instance's build schema (a test may point it elsewhere)
    # Whether publish writes the read-only DuckDB file (and the dashboard drawn from it), and whether raw lives in a
    # DuckDB file that dropped files can load into.
    has_duckdb_file: bool
    keeps_snapshots: bool  # whether dbt keeps snapshots here, which the transform step counts
    dbt_reads_raw_parquet: bool  # whether dbt reads raw as Parquet files (after_merge writes them)

    def raw_loader(self) -> RawLoader:
        """Lands and merges source batches into the raw schema (orchestration/incremental_load.py)."""
        ...

    def session(self) -> AbstractContextManager[SqlSession]:
        """The few queries the gates, the quarantine and the snapshot counts run (orchestration/warehouse_sql.py)."""
        ...

    def relation_schemas(self) -> dict[str, str]:
        """Where a mart suite's `marts.<model>` (and `snapshots.<snapshot>`) are in this target's session."""
        ...

    def ge_connection(self) -> GeConnection:
        """Great Expectations' way into the warehouse the gates check."""
        ...

    def dbt_build_args(self) -> list[str]:
        """What `dbt build` needs besides --target on this target."""
        ...

    def after_merge(self, tables: list[str]) -> str | None:
        """Whatever dbt needs of the raw tables just merged beyond the raw schema; a line for the run's log."""
        ...

    def after_build(self, models: list[str]) -> None:
        """Make the published models dbt built readable where gate 2 and publish read them."""
        ...

    def full_disk_named(self) -> AbstractContextManager[None]:
        """Around the dbt build: a full disk under the warehouse said in one line, as the extract says it
        (orchestration/disk_space.py), where dbt's own error names neither the folder nor what is left."""
        ...

    def publish(
        self, context: dg.AssetExecutionContext, models: list[tuple[str, str]], *, with_dashboard: bool
    ) -> Iterator[dg.MaterializeResult]:
        """Make the gated models (schema, name) what readers see, as one version."""
        ...

    def published_where(self) -> str:
        """Where readers find the published models, for the command line's last words."""
        ...


class TargetDefaults:
    """What most targets do: built from the WarehouseResource's fields, the models read where dbt built them,
    nothing to do after the merge or the build, no dbt argument of their own."""

    def __init__(self, config: Any) -> None:
        """`config`: the WarehouseResource (orchestration/resources.py), whose fields come from the settings."""
        self.config = config
        self.marts_schema: str = config.marts_schema

    def relation_schemas(self) -> dict[str, str]:
        return {MARTS_SCHEMA: self.marts_schema}

    def dbt_build_args(self) -> list[str]:
        return []

    def after_merge(self, tables: list[str]) -> str | None:
        return None

    def after_build(self, models: list[str]) -> None:
        return None

    def full_disk_named(self) -> AbstractContextManager[None]:
        """A server's disk is the server's: its own error says it."""
        return nullcontext()


def warehouse_class(target: str) -> Any:
    """The class of `target`'s Warehouse (its module is imported now: the DuckDB target needs no Postgres driver)."""
    if target not in WAREHOUSE_TARGETS:
        raise ValueError(f"{target!r} is not a warehouse target: use one of {', '.join(WAREHOUSE_TARGETS)}")
    return importlib.import_module(f"{__name__}.{target}").WAREHOUSE
