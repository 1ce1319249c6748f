"""Automation: a sensor that runs an exam when its folder appears or changes, and a nightly schedule
that re-runs every exam whose folder changed since its last successful run. Both request previous
exams first; the run queue (dagster.yaml) runs one warehouse writer at a time."""
from __future__ import annotations

import json

import dagster as dg

from examflow import folders, settings
from examflow.publish import published_exams
from pipelines.jobs import exam_job
from pipelines.partitions import exam_partitions
from pipelines.resources import WAREHOUSE_TAG, ExamFoldersResource, WarehouseResource

FINGERPRINT_TAG = "examflow/fingerprint"


def run_request(found: folders.ExamFolder) -> dg.RunRequest:
    """Run one exam folder; the run key is the folder's fingerprint, so the same state runs once."""
    return dg.RunRequest(
        run_key=f"{found.exam_id}:{found.fingerprint}",
        partition_key=found.exam_id,
        run_config={"ops": {"raw__exam_files": {"config": {"folder": str(found.folder.resolve())}}}},
        tags={FINGERPRINT_TAG: found.fingerprint, "examflow/folder": str(found.folder.resolve())},
    )


IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def writer_in_flight(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    """A run that writes the warehouse and is queued or in progress, if any."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT, tags={WAREHOUSE_TAG: "write"}), limit=1)
    return runs[0] if runs else None


@dg.sensor(job=exam_job, minimum_interval_seconds=settings.sensor_interval(),
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches EXAMFLOW_EXAMS: a new exam folder adds its partition and runs; new or changed "
                       "files (exports, resolutions) run it again; an unchanged folder requests nothing. Requests "
                       "nothing while a warehouse run is queued or in progress; an exam whose previous exam is "
                       "here but not yet materialised waits for it.")
def exam_folder_sensor(context: dg.SensorEvaluationContext, exam_folders: ExamFoldersResource,
                       warehouse: WarehouseResource) -> dg.SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    found = folders.scan(exam_folders.exams_dir)
    known = set(context.instance.get_dynamic_partitions(exam_partitions.name))
    new_ids = sorted({f.exam_id for f in found} - known)
    partitions = [exam_partitions.build_add_request(new_ids)] if new_ids else []
    changed = [f for f in found if seen.get(f.exam_id) != f.fingerprint]
    busy = writer_in_flight(context.instance) if changed else None
    if busy:
        # changed folders stay out of the cursor, so a later tick requests them (once, whatever arrived meanwhile)
        return dg.SensorResult(dynamic_partitions_requests=partitions, cursor=context.cursor, skip_reason=(
            f"waiting for run {busy.run_id} ({busy.tags.get('dagster/partition', busy.job_name)}) to finish "
            f"before requesting {', '.join(f.exam_id for f in changed)}"))
    ready, waiting = folders.ready_to_run(changed, found, published_exams(warehouse.path) if changed else set())
    for exam_id, previous in waiting.items():
        context.log.info(f"{exam_id} waits for its previous exam {previous} to be materialised")
    seen.update({f.exam_id: f.fingerprint for f in ready})
    return dg.SensorResult(
        run_requests=[run_request(f) for f in ready], dynamic_partitions_requests=partitions,
        cursor=json.dumps(seen, sort_keys=True),
        skip_reason=None if ready or not waiting else "waiting for previous exams: " + ", ".join(
            f"{e} after {p}" for e, p in waiting.items()),
    )


def _last_success_fingerprint(instance: dg.DagsterInstance, exam_id: str) -> str | None:
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=exam_job.name, statuses=[dg.DagsterRunStatus.SUCCESS],
                              tags={"dagster/partition": exam_id}), limit=1)
    return runs[0].tags.get(FINGERPRINT_TAG) if runs else None


@dg.schedule(job=exam_job, cron_schedule="0 2 * * *", execution_timezone="Asia/Shanghai",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Nightly at 02:00: re-run every exam whose folder changed since its last successful run.")
def nightly_rerun(context: dg.ScheduleEvaluationContext, exam_folders: ExamFoldersResource):
    found = folders.scan(exam_folders.exams_dir)
    known = set(context.instance.get_dynamic_partitions(exam_partitions.name))
    missing = sorted({f.exam_id for f in found} - known)
    if missing:
        context.instance.add_dynamic_partitions(exam_partitions.name, missing)
    # previous exams first: the run queue starts runs in the order they were requested, one at a time
    requests = [run_request(f) for f in folders.previous_first(found)
                if _last_success_fingerprint(context.instance, f.exam_id) != f.fingerprint]
    return requests or dg.SkipReason("no exam folder changed since its last successful run")
