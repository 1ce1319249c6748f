"""Operating the pipeline from outside: `dagster asset materialize` for one partition in a
subprocess recomputes that exam only; analysts querying with `examflow sql` while a run writes see
either the old or the new complete state and never an error."""
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from examflow.generate import CURRENT_ID, generate
from pipelines.runner import run_exam
from tests.builders import mini_exam
from tests.conftest import copy_fixture, exam_state, query

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_dagster_asset_materialize_one_partition(tmp_path, monkeypatch):
    home, exams = tmp_path / "dagster_home", tmp_path / "exams"
    home.mkdir()
    wh = tmp_path / "wh" / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "EXAMFLOW_WAREHOUSE": str(wh), "EXAMFLOW_EXAMS": str(exams),
           "EXAMFLOW_OUTPUT": str(tmp_path / "out")}
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    tiny = copy_fixture("tiny", exams)
    mini = mini_exam(exams)
    instance = dg.DagsterInstance.get()  # left open: closing it would unbind Dagster's process-wide state
    run_exam(tiny, wh, tmp_path / "out", printouts=False, instance=instance)
    run_exam(mini, wh, tmp_path / "out", printouts=False, instance=instance)
    other_before = exam_state(wh, "mini-2026")
    raw_before = query(wh, "SELECT ingested_at FROM raw.files WHERE exam_id = 'tiny-2026-11' LIMIT 1")
    import duckdb
    con = duckdb.connect(str(wh))
    con.execute("DELETE FROM mart.totals WHERE exam_id = 'tiny-2026-11'")  # damage one exam's table
    con.close()

    result = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "pipelines.definitions",
         "--select", "mart/abnormal_scripts*,mart/resolution_errors*", "--partition", "tiny-2026-11"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert query(wh, "SELECT count(*) FROM mart.totals WHERE exam_id = 'tiny-2026-11'") == [(6,)]
    assert exam_state(wh, "mini-2026") == other_before
    # ingest was upstream of the selection: the raw layer was not read again
    assert query(wh, "SELECT ingested_at FROM raw.files WHERE exam_id = 'tiny-2026-11' LIMIT 1") == raw_before


STATE = "SELECT exam_id, count(*), sum(coalesce(total, 0)) FROM mart.totals GROUP BY exam_id ORDER BY exam_id"


def _sql(env):
    return subprocess.run([str(BIN / "examflow"), "sql", STATE], env=env, capture_output=True, text=True, timeout=120)


def test_analysts_read_while_a_run_writes(tmp_path):
    wh = tmp_path / "wh" / "warehouse.duckdb"
    env = {**os.environ, "EXAMFLOW_WAREHOUSE": str(wh), "DAGSTER_HOME": ""}
    env.pop("DAGSTER_HOME")
    tiny = copy_fixture("tiny", tmp_path / "exams")
    run_exam(tiny, wh, tmp_path / "out", printouts=False)
    old = _sql(env)
    assert old.returncode == 0
    _, big = generate(tmp_path / "gen", 2500, seed=4)
    writer = subprocess.Popen([str(BIN / "examflow"), "run", str(big), "--no-printouts"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    answers = []
    while writer.poll() is None:
        answers.append(_sql(env))
    _, writer_err = writer.communicate()
    assert writer.returncode == 0, writer_err[-2000:]
    new = _sql(env)
    assert CURRENT_ID in new.stdout and new.stdout != old.stdout
    errors = [a.stderr for a in answers if a.returncode != 0]
    assert errors == []
    assert len(answers) >= 3
    assert {a.stdout for a in answers} <= {old.stdout, new.stdout}
