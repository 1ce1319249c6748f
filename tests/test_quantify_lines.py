"""Cut lines, 有效分, single/double over, hit and contribution rates, borderline students, class
figures against `previous` and teacher quantification, on small exams computed by hand.

The exam `lines-2026` (no tracks, so every student is track `all`; cut lines given as one list):
math and english, full 20 each (item 1: single, 4 points, key A; item 2: subjective, 16 points).

| student | class | math | english | total |
|---|---|---|---|---|
| S1 | 1 | A + 16 = 20 | A + 14 = 18 | 38 |
| S2 | 1 | A + 12 = 16 | A + 10 = 14 | 30 |
| S3 | 1 | B + 12 = 12 | A + 12 = 16 | 28 |
| S4 | 1 | A + 4 = 8 | B + 6 = 6 | 14 |
| S5 | 2 | A + 14 = 18 | A + 8 = 12 | 30 |
| S6 | 2 | A + 10 = 14 | A + 14 = 18 | 32 |
| S7 | 2 | B + 10 = 10 | A + 4 = 8 | 18 |
| S8 | 2 | A + 14 = 18 | absent | – (incomplete) |
| S9 | 3 | absent | absent | – (incomplete) |
| S10 | 3 | A, item 2 never marked (UNMARKED → pending) | absent | – (pending) |

Totals in order: 38, 32, 30, 30, 28, 18, 14.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest

from tests.builders import write_csv, write_yaml
from tests.conftest import query, query_dicts, run

LINES_EXAM = {
    "id": "lines-2026", "name": "上线分析小考", "date": "2026-12-01", "grade": "高三",
    "cut_lines": [{"name": "一本线", "top": 3}, {"name": "本科线", "score": 20, "band": 7}],
    "borderline_band": 3,
    "subjects": [
        {"code": "math", "name": "数学", "full": 20, "items": [
            {"id": "1", "type": "single", "full": 4, "key": "A", "knowledge": "函数"},
            {"id": "2", "type": "subjective", "full": 16, "knowledge": "函数、数列"}]},
        {"code": "english", "name": "英语", "full": 20, "items": [
            {"id": "1", "type": "single", "full": 4, "key": "A"},
            {"id": "2", "type": "subjective", "full": 16}]},
    ],
}
# student, class, then per subject (answer of item 1, mark of item 2 or None = never marked), None = absent
LINES_STUDENTS = [
    ("S1", "高三(1)班", ("A", 16), ("A", 14)),
    ("S2", "高三(1)班", ("A", 12), ("A", 10)),
    ("S3", "高三(1)班", ("B", 12), ("A", 12)),
    ("S4", "高三(1)班", ("A", 4), ("B", 6)),
    ("S5", "高三(2)班", ("A", 14), ("A", 8)),
    ("S6", "高三(2)班", ("A", 10), ("A", 14)),
    ("S7", "高三(2)班", ("B", 10), ("A", 4)),
    ("S8", "高三(2)班", ("A", 14), None),
    ("S9", "高三(3)班", None, None),
    ("S10", "高三(3)班", ("A", None), None),
]
LINES_TEACHERS = [
    ("T1", "王老师", "1", "数学", "任课"), ("T1", "王老师", "高三(2)班", "math", "任课"),
    ("T2", "李老师", "1", "英语", "任课"), ("T3", "赵老师", "2", "english", ""),
    ("T2", "李老师", "1", "", "班主任"), ("T9", "钱老师", "2", "数学", "备课组长"),
    ("T4", "孙老师", "3", "数学", "任课"),
]


def exam_no(sid: str) -> str:
    return "26" + sid[1:].zfill(3)


def lines_exam(root: Path, exam: dict | None = None, students=None, teachers=LINES_TEACHERS) -> Path:
    """Write the folder: roster (no track column), teachers, one scan file and one long marks file per
    subject (a single mark each, by marker M1)."""
    exam = exam or LINES_EXAM
    students = students or LINES_STUDENTS
    folder = root / exam["id"]
    write_yaml(folder / "exam.yaml", exam)
    write_csv(folder / "roster.csv", ["学号", "姓名", "班级", "考号"],
              [(sid, f"学生{sid}", cls, exam_no(sid)) for sid, cls, *_ in students])
    if teachers:
        write_csv(folder / "teachers.csv", ["工号", "姓名", "班级", "科目", "职务"], teachers)
    for n, subject in enumerate(exam["subjects"]):
        code = subject["code"]
        write_csv(folder / "scans" / f"{code}.csv", ["考号", "缺考", "1"],
                  [(exam_no(r[0]), "1" if r[2 + n] is None else "0", "" if r[2 + n] is None else r[2 + n][0])
                   for r in students])
        write_csv(folder / "marks" / f"{code}_marks.csv", ["考号", "题号", "一评", "一评教师"],
                  [(exam_no(r[0]), "2", str(r[2 + n][1]), "M1") for r in students
                   if r[2 + n] is not None and r[2 + n][1] is not None])
    return folder


@pytest.fixture(scope="module")
def lines_wh(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("lines")
    wh = base / "wh" / "warehouse.duckdb"
    run(lines_exam(base / "exams"), wh)
    return wh


EXAM = "lines-2026"


def test_cut_lines_top_with_ties_and_score(lines_wh):
    # 一本线 top 3: the 3rd total is 30 (S2 and S5 tie on 30: both over) → over: 38, 32, 30, 30 = 4
    # 本科线 score 20 as given → over: 38, 32, 30, 30, 28 = 5
    rows = query(lines_wh, "SELECT track, line, line_no, rule, line_score, n_over, band FROM mart.cut_lines "
                           "WHERE exam_id = ? ORDER BY line_no", [EXAM])
    assert rows == [("all", "一本线", 0, "top", 30, 4, 3), ("all", "本科线", 1, "score", 20, 5, 7)]


def test_line_analysis_first_line(lines_wh):
    """一本线 (30); over it: S1 38, S6 32, S2 30, S5 30.
    有效分 math = mean(20, 14, 16, 18) = 17; english = mean(18, 18, 14, 12) = 15.5.
    class 1 (S1..S4), n_over_line 2 (S1, S2):
      math ≥ 17: S1 → single 1; S1's total 38 ≥ 30 → double 1; hit 1/1; contribution 1/2
      english ≥ 15.5: S1 18, S3 16 → single 2; double S1 only (S3 28 < 30) → 1; hit 1/2; contribution 1/2
    class 2 (S5..S8), n_over_line 2 (S5, S6):
      math ≥ 17: S5 18, S8 18 (no total, still single over) → 2; double S5 → 1; hit 1/2; contribution 1/2
      english ≥ 15.5: S6 18 → 1; double 1; hit 1; contribution 1/2
    class 3: nobody sat → single 0, n_over_line 0, contribution NULL (no zero division)
    cohort '*': math single S1, S5, S8 = 3, double 2, hit 2/3, contribution 2/4."""
    rows = {(r["class_id"], r["subject"]): r for r in query_dicts(
        lines_wh, "SELECT * FROM mart.line_analysis WHERE exam_id = ? AND line = '一本线'", [EXAM])}
    got = {k: (r["effective_score"], r["n_over_line"], r["single_over"], r["double_over"], r["hit_rate"],
               r["contribution_rate"]) for k, r in rows.items() if k[1] != "total"}
    assert got == {
        ("1", "math"): (17, 2, 1, 1, 1, 0.5),
        ("1", "english"): (15.5, 2, 2, 1, 0.5, 0.5),
        ("2", "math"): (17, 2, 2, 1, 0.5, 0.5),
        ("2", "english"): (15.5, 2, 1, 1, 1, 0.5),
        ("3", "math"): (17, 0, 0, 0, None, None),
        ("3", "english"): (15.5, 0, 0, 0, None, None),
        ("*", "math"): (17, 4, 3, 2, pytest.approx(2 / 3), 0.5),
        ("*", "english"): (15.5, 4, 3, 2, pytest.approx(2 / 3), 0.5),
    }
    # the class total rows carry the line itself
    assert (rows[("1", "total")]["effective_score"], rows[("1", "total")]["n_over_line"]) == (30, 2)
    assert rows[("*", "total")]["n_over_line"] == 4


def test_line_analysis_second_line(lines_wh):
    """本科线 (20); over: S1, S6, S2, S5, S3. 有效分 math = (20+14+16+18+12)/5 = 16,
    english = (18+18+14+12+16)/5 = 15.6. class 1: n_over_line 3 (S1, S2, S3); math ≥ 16: S1, S2 →
    single 2, double 2, contribution 2/3."""
    row = query(lines_wh, "SELECT effective_score, n_over_line, single_over, double_over, contribution_rate "
                          "FROM mart.line_analysis WHERE exam_id = ? AND line = '本科线' AND class_id = '1' "
                          "AND subject = 'math'", [EXAM])
    assert row == [(16, 3, 2, 2, pytest.approx(2 / 3))]
    (eff,), = query(lines_wh, "SELECT effective_score FROM mart.line_analysis WHERE exam_id = ? AND line = '本科线' "
                              "AND class_id = '*' AND subject = 'english'", [EXAM])
    assert eff == pytest.approx(15.6)


def test_borderline(lines_wh):
    """一本线 30, band 3: 27 ≤ total < 33 → S6 32 (+2), S2 30 (0), S5 30 (0), S3 28 (−2).
    本科线 20 with its own band 7: 13 ≤ total < 27 → S7 18 (−2), S4 14 (−6); S3's 28 is outside."""
    rows = set(query(lines_wh, "SELECT line, student_id, class_id, total, distance FROM mart.borderline "
                               "WHERE exam_id = ?", [EXAM]))
    assert rows == {("一本线", "S6", "2", 32, 2), ("一本线", "S2", "1", 30, 0), ("一本线", "S5", "2", 30, 0),
                    ("一本线", "S3", "1", 28, -2), ("本科线", "S7", "2", 18, -2), ("本科线", "S4", "1", 14, -6)}


def test_rank_bands(lines_wh):
    # totals ranked 38 (S1), 32 (S6), 30 (S2, S5 tie at 3), 28 (S3), 18 (S7), 14 (S4)
    bands = {(r[0], r[1]): r[2] for r in query(lines_wh, "SELECT class_id, top, n FROM mart.rank_bands "
                                                          "WHERE exam_id = ?", [EXAM])}
    assert bands[("1", 10)] == 4 and bands[("2", 10)] == 3 and bands[("3", 10)] == 0 and bands[("*", 10)] == 7
    assert set(t for _, t in bands) == {10, 20, 50, 100, 200, 500, 1000}


def test_absent_and_pending_never_enter(lines_wh):
    """Class 3: S9 absent, S10 pending (item 2 unmarked) in math: nobody sat → NULL figures, not zeros."""
    row = query_dicts(lines_wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND class_id = '3' "
                                "AND subject = 'math'", [EXAM])[0]
    assert (row["n_enrolled"], row["n_sat"], row["n_absent"], row["n_pending"]) == (2, 0, 1, 1)
    for col in ("mean", "sd", "median", "max", "min", "excellent_rate", "good_rate", "pass_rate", "low_rate",
                "mean_diff", "mean_ratio", "rank_by_mean", "three_rates_one_score"):
        assert row[col] is None, col
    total = query_dicts(lines_wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND class_id = '3' "
                                  "AND subject = 'total'", [EXAM])[0]
    assert (total["n_sat"], total["n_absent"], total["n_pending"], total["mean"]) == (0, 1, 1, None)
    # the cohort: 8 ok math scripts, S10's item 1 (4 points) is not among them
    cohort = query_dicts(lines_wh, "SELECT * FROM mart.class_quant WHERE exam_id = ? AND class_id = '*' "
                                   "AND subject = 'math'", [EXAM])[0]
    assert (cohort["n_enrolled"], cohort["n_sat"], cohort["n_absent"], cohort["n_pending"]) == (10, 8, 1, 1)
    assert cohort["mean"] == pytest.approx(116 / 8)
    assert query(lines_wh, "SELECT n, mean FROM mart.item_analysis WHERE exam_id = ? AND subject = 'math' "
                           "AND item = '1'", [EXAM]) == [(8, 3.0)]  # 6 × A (4 points) of 8 ok scripts
    # ranks by mean: class 2 (15) 1st, class 1 (14) 2nd, class 3 unranked
    ranks = dict(query(lines_wh, "SELECT class_id, rank_by_mean FROM mart.class_quant WHERE exam_id = ? "
                                 "AND subject = 'math'", [EXAM]))
    assert ranks == {"1": 2, "2": 1, "3": None, "*": None}
    # knowledge points split on 、: item 2 counts for 函数 and 数列
    know = {(r[0], r[1]): r[2] for r in query(lines_wh, "SELECT class_id, knowledge, score_rate FROM mart.knowledge "
                                                        "WHERE exam_id = ? AND subject = 'math'", [EXAM])}
    # class 1 函数: items 1 + 2 of S1..S4 = (20 + 16 + 12 + 8) / 80; 数列: item 2 = (16 + 12 + 12 + 4) / 64
    assert know[("1", "函数")] == pytest.approx(56 / 80) and know[("1", "数列")] == pytest.approx(44 / 64)
    assert ("3", "函数") not in know


def test_teacher_quant_scores(lines_wh):
    """Default weights: 0.4 × mean% + 0.4 × pass% + 0.2 × excellent% + 0.1 × contribution% (一本线);
    thresholds on full 20: excellent ≥ 17, pass ≥ 12.
    T1 class 1 math: 20, 16, 12, 8 → mean 14 = 70%; excellent 1/4; pass 3/4; contribution 1/2
        → 28 + 30 + 5 + 5 = 68
    T1 class 2 math: 18, 14, 10, 18 → mean 15 = 75%; excellent 2/4; pass 3/4; contribution 1/2
        → 30 + 30 + 10 + 5 = 75
    T1 pooled: n 8, mean 14.5 = 72.5%; excellent 3/8; pass 6/8; contribution (1 + 1)/(2 + 2)
        → 29 + 30 + 7.5 + 5 = 71.5
    T2 head of class 1, total (full 40: excellent ≥ 34, pass ≥ 24): 38, 30, 28, 14 → mean 27.5 =
        68.75%; excellent 1/4; pass 3/4; no contribution on a head row → 27.5 + 30 + 5 = 62.5
    T4 class 3 math: nobody sat → quant_score NULL. T9 (备课组长 only) gets no row."""
    rows = {(r["teacher_id"], r["class_id"], r["subject"]): r
            for r in query_dicts(lines_wh, "SELECT * FROM mart.teacher_quant WHERE exam_id = ?", [EXAM])}
    assert set(rows) == {("T1", "1", "math"), ("T1", "2", "math"), ("T1", "*", "math"), ("T2", "1", "english"),
                         ("T2", "*", "english"), ("T3", "2", "english"), ("T3", "*", "english"),
                         ("T2", "1", "total"), ("T4", "3", "math"), ("T4", "*", "math")}
    assert rows[("T1", "1", "math")]["quant_score"] == pytest.approx(68)
    assert rows[("T1", "2", "math")]["quant_score"] == pytest.approx(75)
    pooled = rows[("T1", "*", "math")]
    assert pooled["quant_score"] == pytest.approx(71.5)
    assert (pooled["n_sat"], pooled["mean"], pooled["double_over"], pooled["n_over_line"]) == (8, 14.5, 2, 4)
    assert pooled["contribution_rate"] == 0.5 and pooled["teacher_name"] == "王老师" and pooled["role"] == "teacher"
    head = rows[("T2", "1", "total")]
    assert head["role"] == "head" and head["quant_score"] == pytest.approx(62.5)
    assert head["n_over_line"] == 2 and head["n_over_by_line"] == {"一本线": 2, "本科线": 3}
    assert head["rank_band_counts"][10] == 4 and head["contribution_rate"] is None
    assert rows[("T4", "3", "math")]["quant_score"] is None and rows[("T4", "3", "math")]["n_sat"] == 0
    # T3's english row (empty role → teacher): class 2 english 12, 18, 8 (S8 absent)
    assert rows[("T3", "2", "english")]["n_sat"] == 3
    assert rows[("T3", "2", "english")]["mean"] == pytest.approx(38 / 3)
    (formula, weights, relative), = query(lines_wh, "SELECT formula, weights, relative FROM mart.quant_formula "
                                                    "WHERE exam_id = ?", [EXAM])
    assert formula.startswith("量化分 = 0.4×平均分率 + 0.4×及格率 + 0.2×优秀率 + 0.1×贡献率(一本线)")
    assert relative is False and [w["metric"] for w in weights] == ["mean_pct", "pass_rate", "excellent_rate",
                                                                    "contribution_rate"]


def test_teacher_quant_relative_and_custom_weights(tmp_path):
    """weights {mean: 1, pass_rate: 0.5, low_rate: -2}, relative: every indicator minus the cohort's.
    Cohort math (8 ok): mean 14.5 = 72.5%, pass 6/8 = 75%, low (< 8) 0%.
    T1 class 1 math: 1 × (70 − 72.5) + 0.5 × (75 − 75) − 2 × (0 − 0) = −2.5
    T1 class 2 math: 1 × (75 − 72.5) + 0 − 0 = 2.5; pooled: (−2.5 × 4 + 2.5 × 4) / 8 → 0."""
    exam = copy.deepcopy(LINES_EXAM)
    exam["id"] = "lines-rel"
    exam["teacher_quant"] = {"weights": {"mean": 1, "pass_rate": 0.5, "low_rate": -2}, "relative": True}
    wh = tmp_path / "wh" / "warehouse.duckdb"
    run(lines_exam(tmp_path / "exams", exam), wh)
    scores = {(r[0], r[1]): r[2] for r in query(wh, "SELECT teacher_id, class_id, quant_score FROM mart.teacher_quant "
                                                    "WHERE exam_id = 'lines-rel' AND subject = 'math'")}
    assert scores[("T1", "1")] == pytest.approx(-2.5)
    assert scores[("T1", "2")] == pytest.approx(2.5)
    assert scores[("T1", "*")] == pytest.approx(0, abs=1e-9)
    (formula,), = query(wh, "SELECT formula FROM mart.quant_formula WHERE exam_id = 'lines-rel'")
    assert "1.0×平均分率 + 0.5×及格率 − 2.0×低分率" in formula and "之差" in formula


def test_previous_exam_changes_and_value_added(tmp_path):
    """Previous exam (math only): class 1 all 20, class 2 all 10 (S9, S10 absent) → cohort mean 15,
    population sd 5; z class 1 = +1, class 2 = −1; ranks 1 and 2.
    This exam's math: class 1 mean 14, class 2 mean 15; cohort 8 scores, mean 14.5, squared deviations
    30.25 + 2.25 + 6.25 + 42.25 + 12.25 + 0.25 + 20.25 + 12.25 = 126 → sd = sqrt(126 / 8).
    class 1: mean_change 14 − 20 = −6; rank 1 → 2: change −1; value_added −0.5 / sd − 1.
    class 2: mean_change +5; rank 2 → 1: +1; value_added 0.5 / sd + 1."""
    prev = {**copy.deepcopy(LINES_EXAM), "id": "lines-prev", "cut_lines": {}}
    prev["subjects"] = prev["subjects"][:1]
    prev_students = [(sid, cls, None if cls.startswith("高三(3)") else ("A", 16 if cls.startswith("高三(1)") else 6))
                     for sid, cls, *_ in LINES_STUDENTS]
    cur = {**copy.deepcopy(LINES_EXAM), "previous": "lines-prev"}
    wh = tmp_path / "wh" / "warehouse.duckdb"
    run(lines_exam(tmp_path / "exams", prev, prev_students), wh)
    run(lines_exam(tmp_path / "exams", cur), wh)
    rows = {r[0]: r[1:] for r in query(wh, "SELECT class_id, mean_change, rank_by_mean_change, value_added "
                                           "FROM mart.class_quant WHERE exam_id = ? AND subject = 'math'", [EXAM])}
    sd = math.sqrt(126 / 8)
    assert rows["1"] == (-6, -1, pytest.approx(-0.5 / sd - 1))
    assert rows["2"] == (5, 1, pytest.approx(0.5 / sd + 1))
    assert rows["3"] == (None, None, None)
    # totals are compared too (the previous total is its math score)
    (va,), = query(wh, "SELECT value_added FROM mart.class_quant WHERE exam_id = ? AND subject = 'total' "
                       "AND class_id = '1'", [EXAM])
    assert va is not None
    # teacher rows carry the class's value added
    (tva,), = query(wh, "SELECT value_added FROM mart.teacher_quant WHERE exam_id = ? AND teacher_id = 'T1' "
                        "AND class_id = '1' AND subject = 'math'", [EXAM])
    assert tva == pytest.approx(-0.5 / sd - 1)


def test_lines_per_track_and_reselect_subjects(tmp_path):
    """The tiny example (track physics) with cut_lines {physics: [特控线 top 2], history: [...]}.
    Totals: S04 115, S01 104.5, S03 78, S02 67 → 特控线 = 104.5, over: S04, S01.
    有效分 math = (15 + 19.5)/2 = 17.25; chemistry (converted, the score entering the total) =
    (100 + 85)/2 = 92.5. Class 1 (n_over_line 1: S01): math single S01 → 1, double 1; chemistry
    ≥ 92.5: nobody. Class 2 (n_over_line 1: S04): math ≥ 17.25: nobody (S04 15); chemistry S04 100
    → single 1, double 1, contribution 1.
    T03 (chemistry, classes 1 and 2; raw scores for class figures, full 10, excellent ≥ 8.5, pass ≥ 6):
      class 1: 9, 8, 5 → mean 73.33%, excellent 1/3, pass 2/3, contribution 0 → 29.333 + 26.667 + 6.667
      class 2: 10 (S06 pending) → 100%, 100%, 100%, contribution 1 → 40 + 40 + 20 + 10 = 110
      pooled: mean 8 = 80%, excellent 2/4, pass 3/4, contribution (0 + 1)/(1 + 1) → 32 + 30 + 10 + 5 = 77
    Borderline (band 10): 94.5 ≤ total < 114.5 → S01 (0); S04's 115 is outside."""
    from tests.conftest import copy_fixture

    folder = copy_fixture("tiny", tmp_path / "exams")
    import yaml

    cfg = yaml.safe_load((folder / "exam.yaml").read_text(encoding="utf-8"))
    cfg["cut_lines"] = {"physics": [{"name": "特控线", "top": 2}], "history": [{"name": "特控线", "score": 90}]}
    write_yaml(folder / "exam.yaml", cfg)
    wh = tmp_path / "wh" / "warehouse.duckdb"
    run(folder, wh)
    ex = "tiny-2026-11"
    assert query(wh, "SELECT track, line, line_score, n_over FROM mart.cut_lines WHERE exam_id = ?", [ex]) == [
        ("physics", "特控线", 104.5, 2)]
    la = {(r[0], r[1]): r[2:] for r in query(wh, "SELECT class_id, subject, track, effective_score, n_over_line, "
                                                 "single_over, double_over, contribution_rate FROM mart.line_analysis "
                                                 "WHERE exam_id = ?", [ex])}
    assert la[("1", "math")] == ("physics", 17.25, 1, 1, 1, 1)
    assert la[("1", "chemistry")] == ("physics", 92.5, 1, 0, 0, 0)
    assert la[("2", "math")] == ("physics", 17.25, 1, 0, 0, 0)
    assert la[("2", "chemistry")] == ("physics", 92.5, 1, 1, 1, 1)
    q = {r[0]: r[1] for r in query(wh, "SELECT class_id, quant_score FROM mart.teacher_quant WHERE exam_id = ? "
                                       "AND teacher_id = 'T03'", [ex])}
    assert q["1"] == pytest.approx(0.4 * 220 / 3 + 0.4 * 200 / 3 + 0.2 * 100 / 3)
    assert q["2"] == pytest.approx(110)
    assert q["*"] == pytest.approx(77)
    assert query(wh, "SELECT student_id, distance FROM mart.borderline WHERE exam_id = ?", [ex]) == [("S01", 0)]
    # the chemistry class rows stay on the reselect cohort ('all'), the math rows on the track
    tracks = set(query(wh, "SELECT subject, track FROM mart.class_quant WHERE exam_id = ?", [ex]))
    assert tracks == {("math", "physics"), ("chemistry", "all"), ("total", "physics")}
