"""Transform: the dbt project as Dagster assets (dagster-dbt), reading the raw assets as dbt sources."""

import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from functools import cache, cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    build_dbt_asset_selection,
    dbt_assets,
)
from packaging.version import Version

from orchestration.crash_points import crash_point
from orchestration.dbt_project import (
    crm_dbt_project,
    dbt_beside_python,
    prepare_dbt_manifest_if_dev,
    prepare_dbt_manifest_if_stale,
)
from orchestration.extract import is_full_refresh
from orchestration.names import FULL_REFRESH_TAG, WAREHOUSE_POOL
from orchestration.raw_schema import RAW_SCHEMA
from orchestration.resources import WarehouseResource
from orchestration.warehouse_sql import SqlSession, scalar

# Under `dagster dev` the manifest is re-parsed on load; everywhere else it must already exist
# (`crm-warehouse prepare`, which the install scripts run, or `dagster-dbt project prepare-and-package`), and is
# parsed again only when it was parsed for another CRM_SOURCE_SYSTEM (its sources and models differ).
prepare_dbt_manifest_if_dev()
prepare_dbt_manifest_if_stale()


class CrmDbtTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: raw/<table> for sources, <schema>/<model> for models and seeds.

    A source's key is its table's, whichever dbt source declares it: source('crm', 'opportunities') is the raw
    asset `raw/opportunities`, source('wukong', 'wk_crm_business') is `raw/wk_crm_business`, as the extract
    names them (orchestration/extract.py): raw tables are named as the CRM's own tables, unique across systems.

    The schema is the folder's (`marts`), not where a server target builds it before publishing (`marts_next`):
    an asset is the same asset on every target.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([RAW_SCHEMA, dbt_resource_props["name"]])
        return dg.AssetKey([_folder_schema(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return _folder_schema(dbt_resource_props)


def _folder_schema(dbt_resource_props: Mapping[str, Any]) -> str:
    return dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]


class CrmDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource, with each build's artifacts kept for a while, and without the two
    things it does before every command that this job never uses: a `dbt --version` subprocess, and a dbt
    adapter opened in the job's own process.

    dagster-dbt gives every invocation its own target folder and never removes one (dbt's debug log, the
    compiled SQL, the manifest: tens of MB a run at scale), without end on a schedule. Here they go
    to `target/runs/` and are forgotten after `artifacts_keep_days`.
    """

    artifacts_keep_days: int = 7

    def invocation_target_path(self, context: dg.AssetExecutionContext) -> Path:
        """A new folder for one invocation's artifacts; the folders older than artifacts_keep_days go first."""
        runs_dir = dbt_artifacts_dir(self.project_dir)
        forget_folders_older_than(runs_dir, seconds=self.artifacts_keep_days * 86400)
        return runs_dir / f"{context.run.run_id[:8]}-{uuid.uuid4().hex[:7]}"

    # dagster-dbt asks the executable for its version to tell dbt Core from dbt Fusion: a second Python start
    # with dbt's imports, seconds of every run (docs/benchmarks.md). When the executable is the dbt beside this Python,
    # its version is the installed dbt-core's; any other executable is still asked.
    @cached_property
    def _cli_version(self) -> Version:
        if Path(self.dbt_executable) == dbt_beside_python():
            return Version(installed_version("dbt-core"))
        return DbtCliResource._cli_version.func(self)

    # dagster-dbt also loads the project and every macro into a dbt adapter in this process (a fixed cost of
    # every run: docs/benchmarks.md), only
    # for `.fetch_row_counts()` and `.fetch_column_metadata()` on the event stream, which this job does not
    # call. Without an adapter, as under dbt Fusion, dagster-dbt leaves that metadata out.
    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_artifacts_dir(project_dir: str | Path) -> Path:
    """Where the job's dbt invocations write their artifacts (run_results.json, logs), a folder each."""
    return Path(project_dir) / "target" / "runs"


def forget_folders_older_than(parent: Path, *, seconds: float) -> None:
    """Remove the folders in `parent` last written more than `seconds` ago."""
    cutoff = time.time() - seconds
    for folder in parent.glob("*/"):
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


crm_dbt_translator = CrmDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=crm_dbt_project.manifest_path,
    project=crm_dbt_project,
    dagster_dbt_translator=crm_dbt_translator,
    pool=WAREHOUSE_POOL,
)
def crm_dbt_models(context: dg.AssetExecutionContext, dbt: CrmDbtCliResource, warehouse: WarehouseResource):
    """`dbt build` of the selected models: runs, seeds, snapshots and their tests, in dependency order.

    Then an observation per snapshot says how many versions the run recorded: dbt holds the warehouse file until
    it exits, so they are counted before and after the build. On Spark, the models built are then made readable
    in the DuckDB file (orchestration/warehouses/spark.py), where gate 2 and publish read them.
    """
    # Unit tests check the SQL's logic on fixed inputs, not the data: they run in CI (tests/dbt runs a plain
    # `dbt build`), and dbt recommends leaving them out of production builds (they were an eighth of the build at
    # 1M opportunities: docs/benchmarks.md).
    target = warehouse.for_target()
    args = ["build", "--exclude-resource-type", "unit_test", *target.dbt_build_args()]
    if is_full_refresh(context):
        context.log.info(f"run tag {FULL_REFRESH_TAG}=true: rebuilding incremental models from scratch")
        args.append("--full-refresh")
    snapshot_keys = selected_snapshot_keys(context) if target.keeps_snapshots else set()
    with target.session() as session:
        before = snapshot_version_counts(session, snapshot_keys)
    invocation = dbt.cli(args, context=context, target_path=dbt.invocation_target_path(context))
    warehouse.note_writer_process(invocation.process.pid)
    with target.full_disk_named():  # dbt's "No space left on device" becomes one line naming the folder
        for event in invocation.stream():
            yield event
            crash_point("dbt")  # after dbt's first result, its build still going
    target.after_build([key.path[-1] for key in published_model_keys() if key in context.selected_asset_keys])
    with target.session() as session:
        after = snapshot_version_counts(session, snapshot_keys)
    for key in sorted(snapshot_keys, key=lambda k: k.to_user_string()):
        yield dg.AssetObservation(asset_key=key, metadata=snapshot_change_metadata(before[key], after[key]))


def selected_snapshot_keys(context: dg.AssetExecutionContext) -> set[dg.AssetKey]:
    return dbt_asset_keys("resource_type:snapshot") & set(context.selected_asset_keys)


def snapshot_version_counts(session: SqlSession, keys: set[dg.AssetKey]) -> dict[dg.AssetKey, tuple[int, int]]:
    """(versions, versions closed) per snapshot table; (0, 0) before its first run."""
    counts = {}
    for key in keys:
        schema, table = key.path
        exists = scalar(
            session,
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        )
        counts[key] = (
            tuple(session.rows(f'select count(*), count(dbt_valid_to) from "{schema}"."{table}"')[0])
            if exists
            else (0, 0)
        )
    return counts


def snapshot_change_metadata(before: tuple[int, int], after: tuple[int, int]) -> dict[str, int]:
    """A changed row closes its current version and adds one; a new row only adds one."""
    return {
        "versions_added": after[0] - before[0],
        "rows_changed": after[1] - before[1],
        "rows_new": (after[0] - before[0]) - (after[1] - before[1]),
        "dagster/row_count": after[0],
    }


# The published models: everything under models/marts/, which dbt_project.yml marks `meta.published`.
PUBLISHED_MODELS = "resource_type:model,config.meta.published:true"


@cache
def published_model_keys() -> list[dg.AssetKey]:
    """The models dbt marks `meta.published` (everything under models/marts/): what publish copies."""
    return sorted(dbt_asset_keys(PUBLISHED_MODELS), key=lambda key: key.to_user_string())


def dbt_asset_keys(dbt_select: str) -> set[dg.AssetKey]:
    """The asset keys of the dbt resources a dbt selection string names: dagster-dbt evaluates it with dbt's own
    selector on the manifest the dbt assets were built from, and names them with their translator."""
    return set(build_dbt_asset_selection([crm_dbt_models], dbt_select=dbt_select).resolve([crm_dbt_models]))
