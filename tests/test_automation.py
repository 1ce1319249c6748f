"""The sensor and the nightly schedule, driven with Dagster's own test utilities over a temporary
exams folder: new, grown, unchanged and broken folders."""
import copy
import json
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.checks import CONTRACT_CHECKS
from pipelines.definitions import ASSETS
from pipelines.jobs import exam_job
from pipelines.resources import ExamFoldersResource, WarehouseResource
from pipelines.sensors import exam_folder_sensor, nightly_rerun
from tests.builders import MINI_EXAM, mini_exam, write_csv
from tests.conftest import query, release, writer_holding


@pytest.fixture
def setup(tmp_path):
    exams = tmp_path / "exams"
    exams.mkdir()
    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "wh" / "w.duckdb")),
                 "exam_folders": ExamFoldersResource(exams_dir=str(exams), output_dir=str(tmp_path / "out"))}
    job = dg.Definitions(assets=ASSETS, asset_checks=CONTRACT_CHECKS, jobs=[exam_job],
                         resources=resources).resolve_job_def("exam_job")
    # a real instance on disk (schedule contexts need its ref); not instance_for_test, whose
    # context leaves Dagster's process-wide definitions-state storage bound to a closed instance
    (tmp_path / "dagster_home").mkdir()
    yield exams, resources, job, dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home"))


def tick(instance, resources, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    result = exam_folder_sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def execute(job, instance, request):
    return job.execute_in_process(run_config=request.run_config, instance=instance, partition_key=request.partition_key,
                                  tags=request.tags, raise_on_error=False)


def test_new_unchanged_grown_and_broken_folders(setup):
    exams, resources, job, instance = setup
    assert tick(instance, resources).run_requests == []  # nothing there yet

    folder = mini_exam(exams, marks=False)
    first = tick(instance, resources)
    assert [r.partition_key for r in first.run_requests] == ["mini-2026"]
    assert instance.get_dynamic_partitions("exam") == ["mini-2026"]
    assert execute(job, instance, first.run_requests[0]).success
    wh = resources["warehouse"].path
    assert query(wh, "SELECT count(*) FROM mart.abnormal_scripts WHERE code = 'UNMARKED'") == [(11,)]  # 6 math + 5 biology

    unchanged = tick(instance, resources, first.cursor)
    assert unchanged.run_requests == []

    time.sleep(0.01)
    mini_exam(exams)  # the marking exports arrive
    grown = tick(instance, resources, unchanged.cursor)
    assert [r.partition_key for r in grown.run_requests] == ["mini-2026"]
    assert grown.run_requests[0].run_key != first.run_requests[0].run_key
    assert execute(job, instance, grown.run_requests[0]).success
    assert query(wh, "SELECT count(*) FROM mart.abnormal_scripts WHERE code = 'UNMARKED'") == [(0,)]

    broken_exam = copy.deepcopy(MINI_EXAM)
    broken_exam["id"] = "broken-2026"
    broken = mini_exam(exams, exam=broken_exam)
    write_csv(broken / "scans" / "math.csv", ["考号", "1", "Q9"], [("0101", "A", "B")])
    after_broken = tick(instance, resources, grown.cursor)
    assert [r.partition_key for r in after_broken.run_requests] == ["broken-2026"]
    failed = execute(job, instance, after_broken.run_requests[0])
    assert not failed.success
    failure = [e for e in failed.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE][0]
    assert failure.event_specific_data.user_failure_data.description == (
        "input contract broken: scans/math.csv, row 1, column 'Q9': unknown item 'Q9': not an item of math in exam.yaml")
    assert query(wh, "SELECT exam_id FROM mart.exams") == [("mini-2026",)]  # the good exam is untouched

    # the sensor keeps working for the other exams
    time.sleep(0.01)
    (folder / "resolutions").mkdir()
    write_csv(folder / "resolutions" / "r.csv", ["abnormal_id", "action", "value", "operator"],
              [("MISSING_SCRIPT:math:S01", "mark_absent", "", "王老师")])
    later = tick(instance, resources, after_broken.cursor)
    assert [r.partition_key for r in later.run_requests] == ["mini-2026"]
    assert json.loads(later.cursor).keys() == {"mini-2026", "broken-2026"}


def test_nightly_schedule_reruns_only_changed_folders(setup):
    exams, resources, job, instance = setup
    mini_exam(exams)
    other = copy.deepcopy(MINI_EXAM)
    other["id"] = "mini-2027"
    second = mini_exam(exams, exam=other)
    with dg.build_schedule_context(instance=instance, resources=resources) as context:
        requests = nightly_rerun(context)
    assert sorted(r.partition_key for r in requests) == ["mini-2026", "mini-2027"]
    for request in requests:
        assert execute(job, instance, request).success
    with dg.build_schedule_context(instance=instance, resources=resources) as context:
        assert isinstance(nightly_rerun(context), dg.SkipReason)
    time.sleep(0.01)
    write_csv(second / "resolutions" / "r.csv", ["abnormal_id", "action", "value", "operator"],
              [("X:math:1", "accept", "", "王老师")])
    with dg.build_schedule_context(instance=instance, resources=resources) as context:
        again = nightly_rerun(context)
    assert [r.partition_key for r in again] == ["mini-2027"]


def test_an_exam_waits_for_its_previous_exam(setup):
    """Both folders arrive at once: the previous exam is requested alone; the later one is requested
    (under a run key not used before) once the previous one is materialised, never before."""
    exams, resources, job, instance = setup
    later = copy.deepcopy(MINI_EXAM)
    later.update(id="mini-2027", previous="mini-2026")
    mini_exam(exams, exam=later)
    mini_exam(exams)
    first = tick(instance, resources)
    assert [r.partition_key for r in first.run_requests] == ["mini-2026"]
    assert json.loads(first.cursor).keys() == {"mini-2026"}  # the later exam stays pending
    waiting = tick(instance, resources, first.cursor)
    assert waiting.run_requests == [] and waiting.skip_reason.skip_message == (
        "waiting for previous exams: mini-2027 after mini-2026")
    assert execute(job, instance, first.run_requests[0]).success
    then = tick(instance, resources, waiting.cursor)
    assert [r.partition_key for r in then.run_requests] == ["mini-2027"]
    assert then.run_requests[0].run_key.startswith("mini-2027:")
    assert json.loads(then.cursor).keys() == {"mini-2026", "mini-2027"}
    assert execute(job, instance, then.run_requests[0]).success
    wh = resources["warehouse"].path
    # rank changes against the materialised previous exam (the same roster and scripts: no change)
    assert query(wh, "SELECT count(rank_change), count(*) FILTER (WHERE rank_change <> 0) FROM mart.subject_scores "
                     "WHERE exam_id = 'mini-2027'") == [(11, 0)]


def test_the_nightly_schedule_requests_previous_exams_first(setup):
    exams, resources, job, instance = setup
    later = copy.deepcopy(MINI_EXAM)
    later.update(id="a-later-2027", previous="mini-2026")  # sorts before its previous by folder name
    mini_exam(exams, exam=later)
    mini_exam(exams)
    with dg.build_schedule_context(instance=instance, resources=resources) as context:
        requests = nightly_rerun(context)
    assert [r.partition_key for r in requests] == ["mini-2026", "a-later-2027"]


def test_a_step_that_meets_a_held_warehouse_is_retried_then_succeeds(setup):
    """Another process holds the warehouse past the step's wait: the step is up for retry (Dagster's
    RetryRequested), and succeeds once the writer is gone; the run never fails."""
    exams, resources, _, instance = setup
    mini_exam(exams)
    wh = Path(resources["warehouse"].path)
    wh.parent.mkdir(parents=True)
    impatient = {**resources, "warehouse": WarehouseResource(path=str(wh), lock_timeout=0.2, lock_retries=3,
                                                             lock_retry_seconds=0.5)}
    job = dg.Definitions(assets=ASSETS, asset_checks=CONTRACT_CHECKS, jobs=[exam_job],
                         resources=impatient).resolve_job_def("exam_job")

    def release_after_the_first_retry(holder):
        while True:
            runs = instance.get_runs(limit=1)
            if runs and instance.get_records_for_run(runs[0].run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY
                                                     ).records:
                return release(holder)
            time.sleep(0.1)

    with writer_holding(wh) as holder:
        threading.Thread(target=release_after_the_first_retry, args=(holder,), daemon=True).start()
        result = execute(job, instance, tick(instance, resources).run_requests[0])
    assert result.success
    retried = [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert retried and retried[0] == "raw__exam_files"
    assert query(wh, "SELECT exam_id FROM mart.exams") == [("mini-2026",)]
