"""The spec's tiny example (tests/fixtures/tiny, a copy of shared/spec/examples/tiny) against its
hand-computed EXPECTED.md: every abnormal row, every score, rank, 赋分 and total."""
import pytest

from tests.conftest import query, query_dicts

EXAM = "tiny-2026-11"


def test_abnormal_scripts_after_resolutions(tiny_wh):
    rows = {r["abnormal_id"]: r for r in query_dicts(tiny_wh, "SELECT * FROM mart.abnormal_scripts WHERE exam_id = ?", [EXAM])}
    expected = {
        "UNKNOWN_EXAM_NO:math:math.csv#7": ("blocking", "settled", "assign_student"),
        "MARKER_DISAGREEMENT:math:2001:4": ("blocking", "settled", "set_score"),
        "MULTI_MARK:math:math.csv#4:1": ("warning", "open", None),
        "UNREADABLE_MARK:math:math.csv#7:2": ("warning", "open", None),
        "ORPHAN_MARKS:math:3005": ("blocking", "open", None),
        "DUPLICATE_SCAN:chemistry:C6": ("warning", "open", None),
        "UNMARKED:chemistry:2003:2": ("blocking", "open", None),
    }
    assert set(rows) == set(expected)
    for aid, (severity, status, action) in expected.items():
        assert (rows[aid]["severity"], rows[aid]["status"], rows[aid]["action"]) == (severity, status, action), aid
    assert rows["UNKNOWN_EXAM_NO:math:math.csv#7"]["action_value"] == "S06"
    assert rows["UNKNOWN_EXAM_NO:math:math.csv#7"]["settled_by"] == "王老师"
    assert rows["MARKER_DISAGREEMENT:math:2001:4"]["action_value"] == "4=5"
    # MISSING_SCRIPT:math:S06 does not arise: the assigned script is S06's
    assert not any(a.startswith("MISSING_SCRIPT") for a in rows)


def test_resolution_errors(tiny_wh):
    rows = query_dicts(tiny_wh, "SELECT * FROM mart.resolution_errors WHERE exam_id = ?", [EXAM])
    assert len(rows) == 1
    assert rows[0]["abnormal_id"] == "MULTI_MARK:math:math.csv#4:1"
    assert rows[0]["source_file"] == "resolutions/2026-11-13.csv" and rows[0]["source_row"] == 4
    assert "mark_absent does not settle MULTI_MARK" in rows[0]["reason"]


@pytest.mark.parametrize("student,status,raw,grank,crank", [
    ("S01", "ok", 19.5, 1, 1), ("S02", "ok", 11, 3, 2), ("S03", "ok", 8, 5, 3),
    ("S04", "ok", 15, 2, 1), ("S05", "absent", None, None, None), ("S06", "ok", 9, 4, 2),
])
def test_math_scores(tiny_wh, student, status, raw, grank, crank):
    row = query(tiny_wh, "SELECT status, raw_score, grade_rank, class_rank FROM mart.subject_scores "
                         "WHERE exam_id = ? AND student_id = ? AND subject = 'math'", [EXAM, student])
    assert row == [(status, raw, grank, crank)]


@pytest.mark.parametrize("student,status,raw,converted,band", [
    ("S01", "ok", 9, 85, "B"), ("S02", "ok", 5, 56, "C"), ("S03", "ok", 8, 70, "C"),
    ("S04", "ok", 10, 100, "A"), ("S06", "pending", None, None, None),
])
def test_chemistry_conversion(tiny_wh, student, status, raw, converted, band):
    row = query(tiny_wh, "SELECT status, raw_score, converted_score, band FROM mart.subject_scores "
                         "WHERE exam_id = ? AND student_id = ? AND subject = 'chemistry'", [EXAM, student])
    assert row == [(status, raw, converted, band)]


def test_s05_does_not_take_chemistry(tiny_wh):
    assert query(tiny_wh, "SELECT count(*) FROM mart.subject_scores WHERE exam_id = ? AND student_id = 'S05' "
                          "AND subject = 'chemistry'", [EXAM]) == [(0,)]


def test_totals(tiny_wh):
    rows = {r[0]: r[1:] for r in query(tiny_wh, "SELECT student_id, track, status, total, raw_total, grade_rank, "
                                                "class_rank FROM mart.totals WHERE exam_id = ?", [EXAM])}
    assert rows == {
        "S04": ("physics", "ok", 115, 25, 1, 1),
        "S01": ("physics", "ok", 104.5, 28.5, 2, 1),
        "S03": ("physics", "ok", 78, 16, 3, 2),
        "S02": ("physics", "ok", 67, 16, 4, 3),
        "S05": ("physics", "incomplete", None, None, None, None),
        "S06": ("physics", "pending", None, None, None, None),
    }


def test_item_scores_follow_the_rules(tiny_wh):
    """S02 item 3: AB ⊂ ABD → 6×2/3 = 4; S02 item 4: arbitration 3; S01 item 4: mean(5, 6) = 5.5;
    S04 item 4: settled 5; S06 (bubbled 2009) item 2: '*' → 0."""
    rows = {(r[0], r[1]): r[2] for r in query(tiny_wh, "SELECT student_id, item, score FROM mart.item_scores "
                                                       "WHERE exam_id = ? AND subject = 'math'", [EXAM])}
    assert rows[("S02", "3")] == 4 and rows[("S02", "4")] == 3
    assert rows[("S01", "4")] == 5.5 and rows[("S04", "4")] == 5
    assert rows[("S06", "2")] == 0 and rows[("S06", "3")] == 2 and rows[("S03", "1")] == 0


def test_students_and_exam_summary(tiny_wh):
    classes = dict(query(tiny_wh, "SELECT student_id, class_id FROM mart.students WHERE exam_id = ?", [EXAM]))
    assert classes == {"S01": "1", "S02": "1", "S03": "1", "S04": "2", "S05": "2", "S06": "2"}
    (n_students, n_scripts, n_open), = query(tiny_wh, "SELECT n_students, n_scripts, n_abnormal_open FROM mart.exams "
                                                       "WHERE exam_id = ?", [EXAM])
    assert (n_students, n_scripts, n_open) == (6, 12, 5)


def test_reconciliation(tiny_wh):
    rows = {(r[0], r[1]): r[2:] for r in query(tiny_wh, "SELECT subject, class_id, n_expected, n_scanned, n_absent, "
                                                        "n_missing, n_abnormal_open FROM mart.reconciliation "
                                                        "WHERE exam_id = ?", [EXAM])}
    # math class 2: S04, S05 (absent, scanned with the absent mark), S06 (the script bubbled 2009)
    assert rows[("math", "2")][:4] == (3, 3, 1, 0)
    # chemistry class 2: S04 and S06 take it; S06's script waits for its mark (UNMARKED)
    assert rows[("chemistry", "2")] == (2, 2, 0, 0, 1)
    # the orphan marks of exam number 3005 belong to no class
    assert rows[("math", "?")][-1] == 1
