"""Transform: the dbt project as Dagster assets (dagster-dbt), reading the raw assets as dbt sources."""

import json
import shutil
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.dbt_project import crm_dbt_project
from orchestration.extract import FULL_REFRESH_TAG, WAREHOUSE_POOL, is_full_refresh
from orchestration.raw_schema import RAW_SCHEMA

# Under `dagster dev` the manifest is re-parsed on load; everywhere else it must already exist
# (`crm-warehouse prepare`, which the install scripts run, or `dagster-dbt project prepare-and-package`).
crm_dbt_project.prepare_if_dev()


class CrmDbtTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: raw/<table> for sources, <schema>/<model> for models and seeds."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([RAW_SCHEMA, dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]


def dbt_executable() -> str:
    """dbt from PATH, else the one installed beside this Python (a venv that was not activated)."""
    return shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))


crm_dbt_translator = CrmDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=crm_dbt_project.manifest_path,
    project=crm_dbt_project,
    dagster_dbt_translator=crm_dbt_translator,
    pool=WAREHOUSE_POOL,
)
def crm_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` of the selected models: runs, seeds, snapshots and their tests, in dependency order."""
    args = ["build"]
    if is_full_refresh(context):
        context.log.info(f"run tag {FULL_REFRESH_TAG}=true: rebuilding incremental models from scratch")
        args.append("--full-refresh")
    yield from dbt.cli(args, context=context).stream()


@cache
def published_model_keys() -> list[dg.AssetKey]:
    """The models dbt marks `meta.published` (everything under models/marts/): what publish copies."""
    manifest = json.loads(crm_dbt_project.manifest_path.read_text())
    return sorted(
        (
            crm_dbt_translator.get_asset_key(node)
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node.get("config", {}).get("meta", {}).get("published")
        ),
        key=lambda key: key.to_user_string(),
    )
