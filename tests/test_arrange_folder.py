"""`examflow arrange EXAM_FOLDER` and the Dagster `arrange` assets on a generated exam folder: the
mart tables, the 考务 printouts, the audit rows; an infeasible request writes nothing."""
import dagster as dg
import polars as pl

from pipelines.cli import main
from examflow.generate import generate
from tests.builders import write_csv
from tests.conftest import query

EXAM = "gen-2026-11-midterm"


def test_arrange_command(tmp_path, capsys):
    _, current = generate(tmp_path / "exams", 150, seed=5)
    wh, out = tmp_path / "wh" / "w.duckdb", tmp_path / "out"
    assert main(["arrange", str(current), "--warehouse", str(wh), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"exam {EXAM}:" in printed and "150 students" in printed
    sessions = query(wh, "SELECT subject, session FROM mart.timetable WHERE exam_id = ?", [EXAM])
    assert len(sessions) == 9
    session_of = dict(sessions)
    assert session_of["physics"] == session_of["history"]  # first-choice subjects share a session
    # everyone sits each of their sessions exactly once, and no seat is given twice
    assert query(wh, "SELECT count(*) FROM (SELECT session, student_id FROM mart.seating WHERE exam_id = ? "
                     "GROUP BY ALL HAVING count(*) > 1)", [EXAM]) == [(0,)]
    assert query(wh, "SELECT count(*) FROM (SELECT session, room, seat FROM mart.seating WHERE exam_id = ? "
                     "GROUP BY ALL HAVING count(*) > 1)", [EXAM]) == [(0,)]
    assert query(wh, "SELECT count(DISTINCT student_id) FROM mart.seating WHERE exam_id = ? AND session = ?",
                 [EXAM, session_of["chinese"]]) == [(150,)]
    # nobody invigilates two rooms at once
    assert query(wh, "SELECT count(*) FROM (SELECT session, teacher_id FROM mart.invigilation WHERE exam_id = ? "
                     "GROUP BY ALL HAVING count(*) > 1)", [EXAM]) == [(0,)]
    files = sorted(p.name for p in (out / EXAM / "考务").iterdir())
    assert {"门贴.pdf", "桌贴.pdf", "考试时间表.xlsx", "监考安排表.xlsx"} <= set(files), files
    audited = query(wh, "SELECT count(*), count(DISTINCT file) FROM audit.extracts WHERE template LIKE 'arrange/%'")
    assert audited[0][0] == audited[0][1] == len(files)


def test_infeasible_request_writes_nothing(tmp_path, capsys):
    _, current = generate(tmp_path / "exams", 150, seed=5)
    write_csv(current / "rooms.csv", ["考场", "地点", "座位数"], [("01", "A101", "30"), ("02", "A102", "30")])
    wh, out = tmp_path / "wh" / "w.duckdb", tmp_path / "out"
    assert main(["arrange", str(current), "--warehouse", str(wh), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "infeasible" in err and "150" in err and "60" in err
    assert not wh.exists() and not out.exists()


def test_arrange_asset_in_dagster(tmp_path):
    from pipelines.definitions import ARRANGE_ASSETS
    from pipelines.resources import ExamFoldersResource, WarehouseResource

    _, current = generate(tmp_path / "exams", 90, seed=2)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("exam", [EXAM])
    wh = tmp_path / "wh" / "w.duckdb"
    result = dg.materialize(ARRANGE_ASSETS, instance=instance, partition_key=EXAM, resources={
        "warehouse": WarehouseResource(path=str(wh)),
        "exam_folders": ExamFoldersResource(exams_dir=str(tmp_path / "exams"), output_dir=str(tmp_path / "out"))})
    assert result.success
    keys = {tuple(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert keys == {("mart", "timetable"), ("mart", "seating"), ("mart", "invigilation")}
    assert query(wh, "SELECT count(DISTINCT student_id) FROM mart.seating") == [(90,)]
