"""Sensors: start a run when files are dropped in the landing folder, and raise an alert when a run fails."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from orchestration.alerts import error_text, failure_alert
from orchestration.extract import landing_key, raw_key
from orchestration.file_drops import drop_files_of, drop_files_tag, sort_out_pending
from orchestration.resources import AlertResource, FileDropResource

FILE_DROP_SENSOR = "crm_file_drops"
FAILURE_ALERT_SENSOR = "crm_run_failure_alert"
_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def build_file_drop_sensor(
    job: dg.UnresolvedAssetJobDefinition, downstream: Sequence[dg.AssetKey]
) -> dg.SensorDefinition:
    """A run per batch of new files: each file's table is landed from the file, gated, merged, then `downstream`
    (the dbt models and the publish step) rebuild from raw."""

    @dg.sensor(
        name=FILE_DROP_SENSOR,
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Loads CSV/Parquet exports dropped in CRM_LANDING_DIR: one run per batch of new files, "
        "at most one file per table; broken files go to rejected/ with a reason file.",
    )
    def crm_file_drops(context: dg.SensorEvaluationContext, file_drops: FileDropResource):
        files = sort_out_pending(
            file_drops.folder(),
            file_drops.ledger(),
            in_flight=files_in_unfinished_runs(context.instance, job.name),
            log=context.log,
        )
        if not files:
            return dg.SkipReason(f"no new file to load in {file_drops.landing_dir}")
        tables = [file.table.name for file in files]
        context.log.info("loading " + ", ".join(f"{file.path.name} → {file.table.name}" for file in files))
        return dg.RunRequest(
            asset_selection=[*map(landing_key, tables), *map(raw_key, tables), *downstream],
            tags=drop_files_tag(files),
        )

    return crm_file_drops


def files_in_unfinished_runs(instance: dg.DagsterInstance, job_name: str) -> set[str]:
    """Checksums of the files that queued or running runs are loading: the sensor must not request them twice."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=_UNFINISHED))
    return {drop["sha256"] for run in runs for drop in drop_files_of(run.tags).values()}


def build_failure_alert_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name=FAILURE_ALERT_SENSOR,
        monitored_jobs=[job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Writes a JSON line to CRM_ALERTS_LOG and POSTs it to CRM_ALERT_WEBHOOK_URL for every failed "
        "run; a failed file-drop run's files go to rejected/ with the failure as their reason.",
    )
    def crm_run_failure_alert(
        context: dg.RunFailureSensorContext, alerts: AlertResource, file_drops: FileDropResource
    ) -> None:
        step_errors = {
            event.step_key: error_text(event.event_specific_data.error) for event in context.get_step_failure_events()
        }
        # A run stopped before its steps (the source check) has no step error: its own error says why.
        run_error = error_text(getattr(context.failure_event.event_specific_data, "error", None))
        message = "\n".join(filter(None, [context.failure_event.message or "the run failed", run_error]))
        reason = "\n\n".join(f"{step}: {error}" for step, error in step_errors.items()) or message
        rejected = reject_unloaded_files(
            context.dagster_run, file_drops, reason=f"run {context.dagster_run.run_id} failed:\n{reason}"
        )
        alert = failure_alert(context.dagster_run, message, step_errors, rejected)
        for problem in alerts.send(alert):
            context.log.warning(problem)

    return crm_run_failure_alert


def reject_unloaded_files(run: dg.DagsterRun, file_drops: FileDropResource, *, reason: str) -> dict[str, str]:
    """Move a failed run's files that are still waiting to rejected/, so the sensor does not retry them forever."""
    rejected = {}
    for table, drop in drop_files_of(run.tags).items():
        moved = file_drops.reject(drop, table, reason, run_id=run.run_id)
        if moved is not None:
            rejected[drop["file"]] = str(moved)
    return rejected
