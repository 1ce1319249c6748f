"""The `examflow` commands on real folders: run, status, abnormal, resolve, sql, generate, demo."""
import csv
import io
import os
import stat

from pipelines.cli import main
from tests.conftest import query

EXAM = "tiny-2026-11"


def _cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_run_status_and_abnormal(tiny, wh, capsys):
    rc, out, err = _cli(capsys, "run", tiny, "--warehouse", wh, "--no-printouts")
    assert rc == 0
    assert "exam tiny-2026-11: 6 students, 12 scripts scanned, 5 abnormal scripts open (2 blocking)" in out
    assert "ingested 7 files" in err  # progress
    rc, out, _ = _cli(capsys, "status", EXAM, "--warehouse", wh)
    assert rc == 0
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert lines["chemistry"].split()[1:5] == ["4", "1", "0", "0"] and "UNMARKED 1" in lines["chemistry"]
    assert lines["math"].split()[1:5] == ["5", "0", "1", "0"] and "ORPHAN_MARKS 1" in lines["math"]
    rc, out, _ = _cli(capsys, "abnormal", EXAM, "--warehouse", wh, "--open", "--subject", "math")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["abnormal_id"] for r in rows} == {"ORPHAN_MARKS:math:3005", "MULTI_MARK:math:math.csv#4:1",
                                               "UNREADABLE_MARK:math:math.csv#7:2"}
    assert rows[0]["severity"] == "blocking"  # blocking first
    rc, out, _ = _cli(capsys, "abnormal", EXAM, "--warehouse", wh, "--code", "unknown_exam_no")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["status"], r["action"], r["settled_by"]) for r in rows] == [("settled", "assign_student", "王老师")]


def test_resolve_appends_and_reruns(tiny, wh, capsys):
    assert _cli(capsys, "run", tiny, "--warehouse", wh, "--no-printouts")[0] == 0
    rc, out, err = _cli(capsys, "resolve", EXAM, "UNMARKED:chemistry:2003:2", "set_score", "2=4",
                        "--operator", "李组长", "--note", "补录", "--warehouse", wh, "--no-printouts")
    assert rc == 0, err
    assert "UNMARKED:chemistry:2003:2: settled" in out
    written = (tiny / "resolutions" / "examflow_resolve.csv").read_text(encoding="utf-8").splitlines()
    assert written[0] == "abnormal_id,action,value,operator,at,note"
    assert written[1].startswith("UNMARKED:chemistry:2003:2,set_score,2=4,李组长,")
    assert query(wh, "SELECT status, raw_score FROM mart.subject_scores WHERE student_id = 'S06' "
                     "AND subject = 'chemistry'") == [("ok", 9.0)]  # B (5) + settled 4
    # the office's own file is untouched
    assert len((tiny / "resolutions" / "2026-11-13.csv").read_text(encoding="utf-8").splitlines()) == 4
    rc, out, err = _cli(capsys, "resolve", EXAM, "ORPHAN_MARKS:math:3005", "accept", "--operator", "王老师",
                        "--warehouse", wh, "--no-printouts")
    assert rc == 1 and "accept does not settle ORPHAN_MARKS" in err


def test_sql_reads_the_published_copy(tiny, wh, capsys):
    _cli(capsys, "run", tiny, "--warehouse", wh, "--no-printouts")
    rc, out, _ = _cli(capsys, "sql", "--path", "--warehouse", wh)
    path = out.strip()
    assert rc == 0 and path.endswith("warehouse.analyst.duckdb") and os.path.exists(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(wh).st_mode) == 0o600
    rc, out, _ = _cli(capsys, "sql", "SELECT student_id, total FROM mart.totals WHERE status = 'ok' ORDER BY total DESC",
                      "--warehouse", wh)
    assert out.splitlines() == ["student_id,total", "S04,115.0", "S01,104.5", "S03,78.0", "S02,67.0"]
    rc, out, err = _cli(capsys, "sql", "DELETE FROM mart.totals", "--warehouse", wh)
    assert rc != 0 and "read-only" in err.lower()


def test_generate_and_demo(tmp_path, capsys):
    rc, out, _ = _cli(capsys, "generate", "--students", 60, "--out", tmp_path / "gen", "--seed", 3)
    assert rc == 0 and "gen-2026-11-midterm" in out
    assert (tmp_path / "gen" / "gen-2026-11-midterm" / "exam.yaml").exists()
    rc, out, err = _cli(capsys, "demo", "--dir", tmp_path / "demo", "--students", 120, "--no-printouts")
    assert rc == 0, err
    assert "exam gen-2026-11-midterm: 120 students" in out
    assert f"warehouse: {(tmp_path / 'demo' / 'warehouse.duckdb').resolve()}" in out
    assert query(tmp_path / "demo" / "warehouse.duckdb", "SELECT count(*) FROM mart.exams") == [(2,)]
    # the current exam's ranks change against the previous one
    assert query(tmp_path / "demo" / "warehouse.duckdb",
                 "SELECT count(rank_change) > 0 FROM mart.totals WHERE exam_id = 'gen-2026-11-midterm'") == [(True,)]


def test_generate_and_demo_of_a_joint_exam(tmp_path, capsys):
    rc, _, err = _cli(capsys, "generate", "--students", 60, "--out", tmp_path / "gen", "--schools", 1)
    assert rc == 2 and "at least 2 schools" in err
    rc, out, _ = _cli(capsys, "generate", "--students", 90, "--out", tmp_path / "gen", "--schools", 2)
    assert rc == 0 and "gen-2026-11-joint-midterm" in out
    rc, out, err = _cli(capsys, "demo", "--dir", tmp_path / "demo", "--students", 150, "--joint", "--no-printouts")
    assert rc == 0, err
    assert "exam gen-2026-11-joint-midterm: 150 students" in out and "joint exam, schools by mean total" in out
    assert "一中" in out and "三中" in out
