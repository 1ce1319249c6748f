"""One writer at a time (issue 17): DuckDB lets one process write the warehouse, so `examflow`
commands wait for a writer in another process (then fail with their own message), and Dagster's
run queue (the project's dagster.yaml) runs the sensor's requests one at a time, previous exams
first, with the same figures as a sequential run."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from examflow import publish
from examflow.generate import CURRENT_ID, PREVIOUS_ID, generate
from tests.conftest import query, run, writer_holding

ROOT = Path(__file__).resolve().parent.parent
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    """A monthly exam and the midterm whose `previous` it is, 200 students."""
    return generate(tmp_path_factory.mktemp("generated") / "exams", 200, seed=17)


def examflow(*args: str, timeout: str) -> subprocess.Popen:
    env = {**os.environ, "EXAMFLOW_LOCK_TIMEOUT": timeout}
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_commands_wait_for_a_writer_then_run_or_fail_with_their_own_message(tmp_path, generated):
    previous, current = generated
    wh = tmp_path / "wh" / "warehouse.duckdb"
    common = ["--warehouse", str(wh), "--output", str(tmp_path / "out")]
    run(previous, wh)
    analyst = publish.analyst_path(wh)

    with writer_holding(wh) as holder:
        started = examflow("run", str(current), "--no-printouts", *common, timeout="600")
        seen = []
        while not any("waiting for the warehouse" in line for line in seen):
            line = started.stderr.readline()
            assert line, f"`examflow run` ended without waiting: {''.join(seen)}"
            seen.append(line)
        assert f"waiting for the warehouse {wh}: process {holder.pid} is using it (up to 600s, " \
               "EXAMFLOW_LOCK_TIMEOUT)" in seen[-1]
        # analysts read their copy all the while
        with publish.read_only(analyst) as con:
            assert con.execute("SELECT exam_id FROM mart.exams").fetchall() == [(PREVIOUS_ID,)]
    out, err = started.communicate(timeout=600)
    assert started.returncode == 0, err
    assert f"exam {CURRENT_ID}: 200 students" in out
    assert query(wh, "SELECT exam_id FROM mart.exams ORDER BY exam_id") == [(PREVIOUS_ID,), (CURRENT_ID,)]

    before = sha256(wh), sha256(analyst)
    with writer_holding(wh) as holder:
        again = examflow("run", str(previous), "--no-printouts", *common, timeout="1")
        out, err = again.communicate(timeout=300)
        resolve = examflow("resolve", CURRENT_ID, "X:math:1", "accept", "--operator", "王老师", *common, timeout="1")
        _, resolve_err = resolve.communicate(timeout=300)
    busy = (f"examflow: the warehouse {wh} is still in use by process {holder.pid} after waiting 1s "
            "(EXAMFLOW_LOCK_TIMEOUT); nothing was written. Try again once that run has finished.")
    assert again.returncode == 75 and busy in err.splitlines(), err
    assert "Conflicting lock" not in err and "IO Error" not in err and "Traceback" not in err
    assert resolve.returncode == 75 and busy in resolve_err.splitlines(), resolve_err
    assert not (current / "resolutions" / "examflow_resolve.csv").exists()
    assert (sha256(wh), sha256(analyst)) == before  # the warehouse and the analysts' copy as they were


def wait_for_runs(instance: dg.DagsterInstance, n: int, daemon: subprocess.Popen, log: Path) -> list[dg.RunRecord]:
    """The job's run records once `n` of them have finished (a guard against a hang, not a timing)."""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        records = instance.get_run_records(dg.RunsFilter(job_name="exam_job"))
        if len(records) >= n and all(r.dagster_run.status in FINISHED for r in records):
            return sorted(records, key=lambda r: r.start_time)
        assert daemon.poll() is None, log.read_text()
        time.sleep(1)
    raise AssertionError(f"runs did not finish:\n{log.read_text()[-5000:]}")


def test_exams_dropped_at_once_run_one_at_a_time_previous_first(tmp_path, generated, monkeypatch):
    """The operator's setup from the README: DAGSTER_HOME holding the project's dagster.yaml, the
    daemon `dagster dev` starts (sensor, run queue, run launcher), three exam folders dropped at once:
    the monthly exam, the midterm whose `previous` it is, and an unrelated exam."""
    previous, current = generated
    exams = tmp_path / "exams"
    for folder in generated:
        shutil.copytree(folder, exams / folder.name)
    other = shutil.copytree(previous, exams / "other")
    text = (other / "exam.yaml").read_text(encoding="utf-8")
    assert f"id: {PREVIOUS_ID}" in text
    (other / "exam.yaml").write_text(text.replace(f"id: {PREVIOUS_ID}", "id: other-2026"), encoding="utf-8")

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    wh = tmp_path / "wh" / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "EXAMFLOW_EXAMS": str(exams), "EXAMFLOW_WAREHOUSE": str(wh),
           "EXAMFLOW_OUTPUT": str(tmp_path / "out"), "EXAMFLOW_SENSOR_INTERVAL": "2"}
    log = tmp_path / "daemon.log"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with open(log, "w") as out:
        daemon = subprocess.Popen([str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w",
                                   str(ROOT / "workspace.yaml")], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
        try:
            with dg.DagsterInstance.get() as instance:
                records = wait_for_runs(instance, 3, daemon, log)
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)

    assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * 3, log.read_text()[-5000:]
    order = [r.dagster_run.tags["dagster/partition"] for r in records]
    assert order.index(PREVIOUS_ID) < order.index(CURRENT_ID)
    assert all(r.dagster_run.tags["examflow/warehouse"] == "write" for r in records)
    for earlier, later in zip(records, records[1:]):  # one writer at a time: no two runs overlap
        assert earlier.end_time <= later.start_time

    sequential = tmp_path / "sequential" / "warehouse.duckdb"
    run(previous, sequential)
    run(current, sequential)
    for sql in ("SELECT student_id, subject, rank_change FROM mart.subject_scores WHERE exam_id = ? ORDER BY ALL",
                "SELECT class_id, subject, track, mean_change, value_added FROM mart.class_quant WHERE exam_id = ? "
                "ORDER BY ALL",
                "SELECT teacher_id, class_id, subject, value_added FROM mart.teacher_quant WHERE exam_id = ? "
                "ORDER BY ALL"):
        got, want = query(wh, sql, [CURRENT_ID]), query(sequential, sql, [CURRENT_ID])
        assert got == want
    changes = query(wh, "SELECT count(rank_change) FROM mart.subject_scores WHERE exam_id = ?", [CURRENT_ID])
    assert changes[0][0] > 0  # computed against the materialised previous exam, not against nothing
    assert query(wh, "SELECT count(value_added) FROM mart.class_quant WHERE exam_id = ?", [CURRENT_ID])[0][0] > 0
