"""Automation: a sensor that runs an exam when its folder appears or changes, and a nightly schedule
that re-runs every exam whose folder changed since its last successful run."""
from __future__ import annotations

import json

import dagster as dg

from examflow import folders
from pipelines.jobs import exam_job
from pipelines.partitions import exam_partitions
from pipelines.resources import ExamFoldersResource

FINGERPRINT_TAG = "examflow/fingerprint"


def run_request(found: folders.ExamFolder) -> dg.RunRequest:
    """Run one exam folder; the run key is the folder's fingerprint, so the same state runs once."""
    return dg.RunRequest(
        run_key=f"{found.exam_id}:{found.fingerprint}",
        partition_key=found.exam_id,
        run_config={"ops": {"raw__exam_files": {"config": {"folder": str(found.folder.resolve())}}}},
        tags={FINGERPRINT_TAG: found.fingerprint, "examflow/folder": str(found.folder.resolve())},
    )


@dg.sensor(job=exam_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches EXAMFLOW_EXAMS: a new exam folder adds its partition and runs; new or changed "
                       "files (exports, resolutions) run it again; an unchanged folder requests nothing.")
def exam_folder_sensor(context: dg.SensorEvaluationContext, exam_folders: ExamFoldersResource) -> dg.SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    found = folders.scan(exam_folders.exams_dir)
    known = set(context.instance.get_dynamic_partitions(exam_partitions.name))
    new_ids = sorted({f.exam_id for f in found} - known)
    requests = [run_request(f) for f in found if seen.get(f.exam_id) != f.fingerprint]
    seen.update({f.exam_id: f.fingerprint for f in found})
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[exam_partitions.build_add_request(new_ids)] if new_ids else [],
        cursor=json.dumps(seen, sort_keys=True),
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
    requests = [run_request(f) for f in found if _last_success_fingerprint(context.instance, f.exam_id) != f.fingerprint]
    return requests or dg.SkipReason("no exam folder changed since its last successful run")
