"""The operations tests' own tiny CRM (OpsFolder) and the helpers that evaluate sensors and run the extract.

The end-to-end tests of this folder use the session's clean pipeline (tests/support/pipeline.py), or a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

import simulator
from tests.support import pipeline as support_pipeline

SIMULATED_END = date(2026, 6, 30)


@dataclass(frozen=True)
class OpsFolder(support_pipeline.Pipeline):
    """A data folder for the operations tests: its own CRM, warehouse, landing folder and alerts log.

    Definitions are built from an explicit environment (not os.environ), so these tests never disturb the
    `pipeline` fixture's settings, and runs use a throwaway Dagster instance.
    """

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    def environment(self, **overrides: str) -> dict[str, str]:
        return {
            "CRM_DATA_DIR": str(self.data_dir),
            "CRM_SOURCE_URL": self.source_url,
            "CRM_AS_OF_DATE": SIMULATED_END.isoformat(),
            "DAGSTER_HOME": str(self.data_dir / "dagster_home"),
            **overrides,
        }

    def definitions(self, **overrides: str):
        from orchestration.definitions import build_definitions
        from orchestration.settings import Settings

        return build_definitions(Settings.from_environment(self.environment(**overrides)))

    def resources(self, **overrides: str) -> dict[str, object]:
        return self.definitions(**overrides).resources


def evaluate_sensor(definitions, instance, name: str):
    """One tick of a sensor, as the daemon evaluates it (resources opened for the tick, then closed)."""
    import dagster as dg

    with dg.build_sensor_context(instance=instance, resources=definitions.resources) as context:
        return definitions.resolve_sensor_def(name)(context)


def alert_run_failure(definitions, instance, run, failure_event) -> None:
    """The failure-alert sensor on one failed run, as the daemon evaluates it."""
    import dagster as dg

    with dg.build_run_status_sensor_context(
        sensor_name="crm_run_failure_alert",
        dagster_event=failure_event,
        dagster_instance=instance,
        dagster_run=run,
        resources=definitions.resources,
    ) as context:
        definitions.resolve_sensor_def("crm_run_failure_alert")(context.for_run_failure())


def run_extract(definitions, instance, *tables: str, tags: dict[str, str] | None = None):
    """crm_elt restricted to the tables' landing and raw assets (gate 1 included; no dbt, to stay fast)."""
    import dagster as dg

    selection = [dg.AssetKey([layer, table]) for table in tables for layer in ("landing", "raw")]
    return definitions.resolve_job_def("crm_elt").execute_in_process(
        instance=instance, asset_selection=selection, tags=tags, raise_on_error=False
    )


@pytest.fixture(scope="session")
def ops_crm(tmp_path_factory: pytest.TempPathFactory) -> OpsFolder:
    """A tiny simulated CRM loaded into raw straight away (no Dagster, no gate: the tests run those on one table)."""
    import duckdb

    from crm_contract import SOURCE_TABLES
    from orchestration.dbt_project import crm_dbt_project, prepare_dbt_manifest
    from orchestration.incremental_load import load_table
    from orchestration.source_reader import SourceReader

    folder = OpsFolder(tmp_path_factory.mktemp("ops"))
    simulator.generate(folder.source_url, opportunities=40, seed=5, end_date=SIMULATED_END, quiet=True)
    if not crm_dbt_project.manifest_path.exists():  # the Definitions need it; parsing takes a while
        prepare_dbt_manifest()
    with duckdb.connect(str(folder.warehouse_path)) as con:
        for table in SOURCE_TABLES:
            load_table(con, SourceReader(folder.source_url), table, load_id="ops-seed")
    return folder
