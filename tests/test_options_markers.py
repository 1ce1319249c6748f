"""Option shares on multi and AB-versioned items, arbitration in marker quality and the `expected`
flag of subject scores (issue 13), each figure computed by hand on a small exam built here, and the
workbook sheets that show them (小题分析 选项分布, 教师量化表 阅卷质量)."""
from __future__ import annotations

import csv
import math

import pytest
from openpyxl import load_workbook

from tests.builders import BIO_MARKS, BIO_SCAN_HEADER, BIO_SCANS, mini_exam, write_csv, write_yaml
from examflow import warehouse
from tests.conftest import query, query_dicts, run

EXAM_ID = "options-2026"
EXAM = {
    "id": EXAM_ID, "name": "选项与仲裁", "date": "2026-12-03", "grade": "高三",
    "subjects": [{"code": "math", "name": "数学", "full": 20, "items": [
        {"id": "1", "type": "multi", "full": 6, "key": "ABD"},             # per_option partial: 2 per letter
        {"id": "2", "type": "single", "full": 4, "key": {"A": "B", "B": "D"}},   # AB卷
        {"id": "3", "type": "subjective", "full": 10, "tolerance": 2},
    ]}],
}
# student, class, exam_no, paper version, item 1, item 2
SCANS = [
    ("S1", "1", "1001", "A", "ABD", "B"),    # 1: correct (6)                    2: A's key B (4)
    ("S2", "1", "1002", "A", "AB", "D"),     # 1: partial, no wrong letter (4)   2: wrong on A (0)
    ("S3", "1", "1003", "A", "", "B"),       # 1: blank (0)                      2: key (4)
    ("S4", "1", "1004", "A", "A?", ""),      # 1: unreadable → invalid (0)       2: blank (0)
    ("S5", "2", "2001", "B", "ABE", "D"),    # 1: E outside A–D → invalid (0)    2: B's key D (4)
    ("S6", "2", "2002", "B", "BD", "D"),     # 1: partial (4)                    2: key (4)
    ("S7", "2", "2003", "B", "ABC", "B"),    # 1: C is wrong → 0                 2: wrong on B (0)
    ("S8", "2", "2004", "B", "", "AC"),      # 1: blank (0)                      2: two letters → invalid (0)
]
# item 3 (tolerance 2): exam_no, first mark, first marker, second mark, second marker, arbitration, arbiter
MARKS = [
    ("1001", "8", "T1", "9", "T2", "", ""),      # mean 8.5
    ("1002", "4", "T1", "9", "T2", "6", "T9"),   # beyond tolerance → arbitration 6
    ("1003", "7", "T2", "7", "T1", "", ""),      # T2 first, T1 second here
    ("1004", "10", "T1", "5", "T2", "9", "T9"),  # arbitration 9
    ("2001", "3", "T1", "", "", "", ""),         # one mark only
    ("2002", "6", "T1", "6", "T2", "", ""),
    ("2003", "2", "T2", "8", "T1", "5", "T9"),   # arbitration 5, 3 from both marks
    ("2004", "5", "T1", "6", "T2", "", ""),      # mean 5.5
]


def write_exam(root):
    folder = root / EXAM_ID
    write_yaml(folder / "exam.yaml", EXAM)
    write_csv(folder / "roster.csv", ["学号", "姓名", "班级", "考号"],
              [(s, f"学生{s}", f"高三({c})班", no) for s, c, no, *_ in SCANS])
    write_csv(folder / "scans" / "数学.csv", ["考号", "缺考", "试卷类型", "1", "2"],
              [(no, "0", v, a1, a2) for _, _, no, v, a1, a2 in SCANS])
    write_csv(folder / "marks" / "数学阅卷.csv", ["考号", "题号", "一评", "一评教师", "二评", "二评教师", "仲裁", "仲裁教师"],
              [(no, "3", *rest) for no, *rest in MARKS])
    return folder


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    base = tmp_path_factory.mktemp("options")
    path = base / "wh" / "warehouse.duckdb"
    run(write_exam(base / "exams"), path, printouts=True)
    return path


def _options(wh, item):
    rows = query(wh, "SELECT paper_version, option, share, n, is_key FROM mart.item_options "
                     "WHERE exam_id = ? AND subject = 'math' AND item = ?", [EXAM_ID, item])
    return {(v, o): (share, n, key) for v, o, share, n, key in rows}


def test_every_script_is_ok_and_scored(wh):
    # item 1: 6, 4, 0, 0, 0, 4, 0, 0; item 2: 4, 0, 4, 0, 4, 4, 0, 0; item 3: 8.5, 6, 7, 9, 3, 6, 5, 5.5
    rows = dict(query(wh, "SELECT student_id, raw_score FROM mart.subject_scores WHERE exam_id = ? AND status = 'ok'",
                      [EXAM_ID]))
    assert rows == {"S1": 18.5, "S2": 10, "S3": 11, "S4": 9, "S5": 7, "S6": 14, "S7": 5, "S8": 5.5}


def test_multi_item_counts_each_script_once_in_blank_and_invalid(wh):
    """Item 1 (multi ABD) over 8 scripts: blank S3, S8 → 2/8; invalid S4 ('A?', unreadable) and S5
    ('ABE', E outside the options) → 2/8, once each whatever the letters read, and in no letter;
    letters from the valid answers ABD, AB, BD, ABC: A 3, B 4, C 1, D 2."""
    opts = _options(wh, "1")
    assert {v for v, _ in opts} == {"*"}                                 # no paper versions on this item
    assert {o: s for (_, o), (s, _, _) in opts.items()} == {
        "A": 3 / 8, "B": 4 / 8, "C": 1 / 8, "D": 2 / 8, "blank": 2 / 8, "invalid": 2 / 8}
    assert {o: k for (_, o), (_, _, k) in opts.items()} == {
        "A": True, "B": True, "C": False, "D": True, "blank": False, "invalid": False}
    assert {n for _, n, _ in opts.values()} == {8}


def test_ab_item_has_pooled_and_per_version_rows(wh):
    """Item 2 (single, key A: B, B: D). Pooled over 8: B (S1, S3, S7) 3/8, D (S2, S5, S6) 3/8, blank S4
    1/8, invalid S8 (AC) 1/8, no single key (is_key NULL). Version A (S1–S4): B 2/4 the key, D 1/4,
    blank 1/4. Version B (S5–S8): D 2/4 the key, B 1/4, invalid 1/4."""
    opts = _options(wh, "2")
    expected = {
        "*": {"A": 0, "B": 3 / 8, "C": 0, "D": 3 / 8, "blank": 1 / 8, "invalid": 1 / 8},
        "A": {"A": 0, "B": 2 / 4, "C": 0, "D": 1 / 4, "blank": 1 / 4, "invalid": 0},
        "B": {"A": 0, "B": 1 / 4, "C": 0, "D": 2 / 4, "blank": 0, "invalid": 1 / 4},
    }
    assert {v: {o: s for (vv, o), (s, _, _) in opts.items() if vv == v} for v in expected} == expected
    assert {v: n for (v, _), (_, n, _) in opts.items()} == {"*": 8, "A": 4, "B": 4}
    keys = {v: {o for (vv, o), (_, _, k) in opts.items() if vv == v and k} for v in expected}
    assert keys == {"*": set(), "A": {"B"}, "B": {"D"}}
    assert all(k is None for (v, _), (_, _, k) in opts.items() if v == "*")
    assert all(k is not None for (v, _), (_, _, k) in opts.items() if v != "*")


def _sd(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def test_marker_quality_pools_a_markers_roles_and_counts_overruled(wh):
    """Item 3, tolerance 2. First marks: T1 8, 4, 10, 3, 6, 5 and T2 7, 2; second marks: T2 9, 9, 5,
    6, 6 and T1 7, 8; arbitrations by T9: 6 (marks 4, 9), 9 (10, 5), 5 (2, 8). One row per marker
    (outputs.md's key), over every mark the marker gave on the item, whatever the role. Double-marked
    pairs: T1 first with T2 second (8, 9) (4, 9) (10, 5) (6, 6) (5, 6), |diff| 1, 5, 5, 0, 1; T2 first
    with T1 second (7, 7) (2, 8), 0 and 6.
    T1: 8 marks, mean 51/8; 7 double-marked, 3 beyond 2 (5, 5, 6), mean |diff| 18/7; 1002, 1004 (its
    first marks) and 2003 (second) replaced by an arbitration; 6 of its 8 marks are first marks.
    T2: 7 marks, 44/7; the same 7 pairs: 3 of 7, 18/7; three replaced; 5 of its 7 are second marks.
    T9: nearer mark 2 (6 vs 4), 1 (9 vs 10), 3 (5 vs 2 and 8) → beyond 2 on one of 3 (agreed with
    neither marker), mean 6/3 = 2; nothing replaces an arbitration."""
    rows = {r["marker"]: r for r in query_dicts(
        wh, "SELECT * FROM mart.marker_quality WHERE exam_id = ? AND subject = 'math' AND item = '3'", [EXAM_ID])}
    assert {m: r["role"] for m, r in rows.items()} == {"T1": "first", "T2": "second", "T9": "arbitration"}
    expected = {  # n_marked, mean, sd, n_double, disagreement_rate, mean_abs_diff, n_overruled
        "T1": (8, 51 / 8, _sd([8, 4, 10, 3, 6, 5, 7, 8]), 7, 3 / 7, 18 / 7, 3),
        "T2": (7, 44 / 7, _sd([7, 2, 9, 9, 5, 6, 6]), 7, 3 / 7, 18 / 7, 3),
        "T9": (3, 20 / 3, _sd([6, 9, 5]), 3, 1 / 3, 2, 0),
    }
    cols = ["n_marked", "mean", "sd", "n_double", "disagreement_rate", "mean_abs_diff", "n_overruled"]
    for key, values in expected.items():
        assert [rows[key][c] for c in cols] == [pytest.approx(v) for v in values], key


def test_workbooks_show_versions_and_roles(wh):
    out = wh.parent / "output" / EXAM_ID
    ws = load_workbook(out / "小题分析.xlsx")["选项分布"]
    head = [c.value for c in ws[1]]
    rows = {(r[head.index("题号")], r[head.index("卷型")]): dict(zip(head, r))
            for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert set(rows) == {("1", "全卷"), ("2", "全卷"), ("2", "A"), ("2", "B")}
    assert (rows[("2", "A")]["答案"], rows[("2", "A")]["B"], rows[("2", "A")]["人数"]) == ("B", 0.5, 4)
    assert (rows[("2", "B")]["答案"], rows[("2", "B")]["D"], rows[("2", "B")]["无效"]) == ("D", 0.5, 0.25)
    assert rows[("1", "全卷")]["未作答"] == 0.25 and rows[("1", "全卷")]["无效"] == 0.25
    ws = load_workbook(out / "教师量化表.xlsx")["阅卷质量"]
    head = [c.value for c in ws[1]]
    rows = {(r[head.index("阅卷人工号")], r[head.index("评次")]): dict(zip(head, r))
            for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert set(rows) == {("T1", "一评"), ("T2", "二评"), ("T9", "仲裁")}
    assert rows[("T9", "仲裁")]["阅卷量"] == 3 and rows[("T1", "一评")]["被仲裁数"] == 3


def test_expected_is_false_for_an_accepted_not_enrolled_script(tmp_path):
    """S03 does not take biology; a biology sheet with S03's number is NOT_ENROLLED, accepted: the
    script counts (raw 5 = item 1 D wrong, 0 + mark 5) but the roster does not expect it."""
    folder = mini_exam(tmp_path / "exams")
    write_csv(folder / "scans" / "biology.csv", BIO_SCAN_HEADER, BIO_SCANS + [("B6", "0103", "0", "D")])
    write_csv(folder / "marks" / "生物小题分.csv", ["考号", "2"], BIO_MARKS + [("0103", "5")])
    (folder / "resolutions").mkdir()
    with open(folder / "resolutions" / "office.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["abnormal_id", "action", "value", "operator", "at", "note"],
                                 ["NOT_ENROLLED:biology:B6", "accept", "", "王老师", "2026-11-21T09:00:00", ""]])
    wh = tmp_path / "wh" / "warehouse.duckdb"
    run(folder, wh)
    rows = {(r[0], r[1]): r[2:] for r in query(wh, "SELECT student_id, subject, expected, status, raw_score "
                                                   "FROM mart.subject_scores")}
    assert rows[("S03", "biology")] == (False, "ok", 5)
    assert rows[("S03", "math")][0] is True and rows[("S01", "biology")][0] is True
    assert sum(not r[0] for r in rows.values()) == 1


NEW_COLUMNS = [("item_options", "paper_version"), ("marker_quality", "role"), ("marker_quality", "n_overruled"),
               ("subject_scores", "expected")]


def test_an_older_warehouse_gains_the_new_columns(tmp_path):
    """A warehouse written before these columns existed keeps working: the next run adds them (the
    mini exam's rows, not run again, hold NULL there) and fills them for the exam it runs."""
    wh = tmp_path / "wh" / "warehouse.duckdb"
    run(mini_exam(tmp_path / "exams"), wh)
    with warehouse.connect(wh) as con:
        for table, column in NEW_COLUMNS:
            con.execute(f"ALTER TABLE mart.{table} DROP COLUMN {column}")
    run(write_exam(tmp_path / "exams"), wh)
    for table, column in NEW_COLUMNS:
        filled = dict(query(wh, f"SELECT exam_id, bool_and({column} IS NOT NULL) FROM mart.{table} GROUP BY ALL"))
        assert filled == {"mini-2026": False, EXAM_ID: True}, (table, column)
    assert _options(wh, "2")[("B", "D")] == (0.5, 4, True)
