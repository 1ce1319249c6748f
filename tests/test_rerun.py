"""Re-runs are idempotent: twice on one folder, or on a folder that grew, gives the warehouse one
run on the final folder gives; other exams are untouched."""
import copy
import shutil

from tests.builders import MINI_EXAM, mini_exam
from tests.conftest import exam_state, query, run

EXAM = MINI_EXAM["id"]


def test_twice_equals_once(tmp_path):
    folder = mini_exam(tmp_path / "exams")
    once, twice = tmp_path / "a" / "w.duckdb", tmp_path / "b" / "w.duckdb"
    run(folder, once)
    run(folder, twice)
    run(folder, twice)
    assert exam_state(twice, EXAM) == exam_state(once, EXAM)


def test_folder_that_grew_equals_final_folder(tmp_path):
    final = mini_exam(tmp_path / "final")
    partial = tmp_path / "partial" / EXAM
    shutil.copytree(final, partial)
    (partial / "scans" / "biology.csv").unlink()
    (partial / "marks" / "生物小题分.csv").unlink()
    grown, direct = tmp_path / "g" / "w.duckdb", tmp_path / "d" / "w.duckdb"
    run(partial, grown)
    # before the biology scans arrive, its takers are MISSING_SCRIPT and pending
    assert query(grown, "SELECT count(*) FROM mart.abnormal_scripts WHERE code = 'MISSING_SCRIPT'") == [(5,)]
    shutil.copy(final / "scans" / "biology.csv", partial / "scans" / "biology.csv")
    shutil.copy(final / "marks" / "生物小题分.csv", partial / "marks" / "生物小题分.csv")
    run(partial, grown)
    run(final, direct)
    grown_state, direct_state = exam_state(grown, EXAM), exam_state(direct, EXAM)
    grown_state.pop("raw.exams"), direct_state.pop("raw.exams")  # the folder path differs, nothing else
    grown_state.pop("mart.exams"), direct_state.pop("mart.exams")
    assert grown_state == direct_state
    assert query(grown, "SELECT count(*) FROM mart.abnormal_scripts WHERE code = 'MISSING_SCRIPT'") == [(0,)]


def test_other_exams_untouched(tmp_path, wh):
    x = mini_exam(tmp_path / "x")
    other = copy.deepcopy(MINI_EXAM)
    other["id"] = "mini-2027"
    y = mini_exam(tmp_path / "y", exam=other)
    run(x, wh)
    before = exam_state(wh, EXAM)
    run(y, wh)
    run(y, wh)
    assert exam_state(wh, EXAM) == before
    assert query(wh, "SELECT exam_id, n_students FROM mart.exams ORDER BY exam_id") == [("mini-2026", 6), ("mini-2027", 6)]


def test_a_table_missing_a_models_column_gains_it(tmp_path):
    """A warehouse made before a model gained a column (here mart.totals without raw_total) gets the
    column, filled, on the next run: existing tables are extended, not re-created."""
    from examflow import stages, warehouse
    from examflow.ingest import read_exam_folder

    raw = read_exam_folder(mini_exam(tmp_path / "exams"))
    wh = tmp_path / "w.duckdb"
    with warehouse.connect(wh) as con:
        warehouse.write_raw(con, raw)
        warehouse.run_models(con, EXAM, stages.VALIDATE + stages.SCORE)
        expected = con.execute("SELECT student_id, raw_total FROM mart.totals ORDER BY 1").fetchall()
        con.execute("ALTER TABLE mart.totals DROP COLUMN raw_total")
        warehouse.run_models(con, EXAM, stages.VALIDATE + stages.SCORE)
        assert con.execute("SELECT student_id, raw_total FROM mart.totals ORDER BY 1").fetchall() == expected
    assert any(total is not None for _, total in expected)
