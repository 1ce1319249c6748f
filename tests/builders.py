"""Small exam folders built by hand for tests: every file written exactly as a school would send it."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

MINI_EXAM = {
    "id": "mini-2026",
    "name": "小测",
    "date": "2026-11-20",
    "grade": "高三",
    "double_mark_tolerance": 2,
    "subjects": [
        {"code": "math", "name": "数学", "full": 20, "items": [
            {"id": "1", "type": "single", "full": 4, "key": "A", "knowledge": "集合"},
            {"id": "2", "type": "single", "full": 4, "key": "C", "knowledge": "函数"},
            {"id": "3", "type": "multi", "full": 6, "key": "ABD", "knowledge": "函数"},
            {"id": "4", "type": "subjective", "full": 6, "knowledge": "数列"},
        ]},
        {"code": "biology", "name": "生物", "full": 10, "role": "reselect", "items": [
            {"id": "1", "type": "single", "full": 5, "key": "B"},
            {"id": "2", "type": "subjective", "full": 5},
        ]},
    ],
}

# student_id, name, class, exam_no, track, electives
MINI_ROSTER = [
    ("S01", "张三", "高三(1)班", "0101", "物理类", "生物 化学"),
    ("S02", "李四", "高三(1)班", "0102", "物理类", "生物 化学"),
    ("S03", "王五", "高三(1)班", "0103", "物理类", "化学 地理"),
    ("S04", "赵六", "高三(2)班", "0201", "物理类", "生物 地理"),
    ("S05", "钱七", "高三(2)班", "0202", "物理类", "生物 化学"),
    ("S06", "孙八", "高三(2)班", "0203", "物理类", "生物 化学"),
]


def write_csv(path: Path, header: list[str], rows: list, encoding: str = "utf-8", delimiter: str = ",",
              quote_all: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                   lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def mini_exam(root: Path, exam: dict | None = None, roster: list | None = None, scans: bool = True,
              marks: bool = True) -> Path:
    """A complete, clean exam folder: 6 students, math for all, biology for its 5 takers."""
    folder = root / (exam or MINI_EXAM)["id"]
    write_yaml(folder / "exam.yaml", exam or MINI_EXAM)
    write_csv(folder / "roster.csv", ["学号", "姓名", "班级", "考号", "类别", "选科"], roster or MINI_ROSTER)
    if scans:
        write_csv(folder / "scans" / "math.csv", MATH_SCAN_HEADER, MATH_SCANS)
        write_csv(folder / "scans" / "biology.csv", BIO_SCAN_HEADER, BIO_SCANS)
    if marks:
        write_csv(folder / "marks" / "math_marks.csv", MATH_MARK_HEADER, MATH_MARKS)
        write_csv(folder / "marks" / "生物小题分.csv", ["考号", "2"], BIO_MARKS)
    return folder


# Hand-computed scores of the clean mini exam (double-marking tolerance 2):
# math  S01 4+4+6+6=20, S02 4+0+4+mean(2,3)=2.5 → 10.5, S03 0+4+6+4=14, S04 4+4+2+mean(5,4)=4.5 → 14.5,
#       S05 4+4+6+3=17, S06 0+4+2+mean(1,2)=1.5 → 7.5
# biology (S03 does not take it) S01 5+4=9, S02 0+5=5, S04 5+3=8, S05 5+2=7, S06 0+5=5
MATH_SCAN_HEADER = ["考号", "缺考", "1", "2", "3"]
MATH_SCANS = [("0101", "0", "A", "C", "ABD"), ("0102", "0", "A", "B", "AB"), ("0103", "0", "B", "C", "ABD"),
              ("0201", "0", "A", "C", "D"), ("0202", "0", "A", "C", "ABD"), ("0203", "0", "C", "C", "A")]
BIO_SCAN_HEADER = ["扫描序号", "考号", "缺考", "1"]
BIO_SCANS = [("B1", "0101", "0", "B"), ("B2", "0102", "0", "A"), ("B3", "0201", "0", "B"),
             ("B4", "0202", "0", "B"), ("B5", "0203", "0", "D")]
MATH_MARK_HEADER = ["考号", "题号", "一评", "一评教师", "二评", "二评教师"]
MATH_MARKS = [("0101", "4", "6", "T01", "6", "T02"), ("0102", "4", "2", "T01", "3", "T02"),
              ("0103", "4", "4", "T01", "4", "T02"), ("0201", "4", "5", "T01", "4", "T02"),
              ("0202", "4", "3", "T01", "3", "T02"), ("0203", "4", "1", "T01", "2", "T02")]
BIO_MARKS = [("0101", "4"), ("0102", "5"), ("0201", "3"), ("0202", "2"), ("0203", "5")]


# A joint exam (联考) of two schools with two classes each, both tracks, and a previous joint exam.
# Each subject has one single-choice item (4 points) and one subjective item (6 points), so a score
# is written as (objective right?, subjective mark); None = absent.
JOINT_SUBJECTS = [
    {"code": "math", "name": "数学", "full": 10, "items": [
        {"id": "1", "type": "single", "full": 4, "key": "A"}, {"id": "2", "type": "subjective", "full": 6}]},
    {"code": "physics", "name": "物理", "full": 10, "role": "first_choice", "items": [
        {"id": "1", "type": "single", "full": 4, "key": "A"}, {"id": "2", "type": "subjective", "full": 6}]},
    {"code": "history", "name": "历史", "full": 10, "role": "first_choice", "items": [
        {"id": "1", "type": "single", "full": 4, "key": "A"}, {"id": "2", "type": "subjective", "full": 6}]},
]
# student_id, name, school, class, exam_no, track
JOINT_ROSTER = [
    ("A1", "甲一", "一中", "高三(1)班", "1001", "物理类"), ("A2", "甲二", "一中", "高三(1)班", "1002", "物理类"),
    ("A3", "甲三", "一中", "高三(2)班", "1003", "历史类"), ("A4", "甲四", "一中", "高三(2)班", "1004", "物理类"),
    ("B1", "乙一", "二中", "1班", "2001", "物理类"), ("B2", "乙二", "二中", "1班", "2002", "历史类"),
    ("B3", "乙三", "二中", "2班", "2003", "物理类"), ("B4", "乙四", "二中", "2班", "2004", "历史类"),
]
# exam_no -> {subject: (objective right, subjective mark) or None for absent}
JOINT_SCORES = {
    "1001": {"math": (1, 6), "physics": (1, 5)}, "1002": {"math": (0, 5), "physics": (1, 2)},
    "1003": {"math": (1, 3), "history": (1, 4)}, "1004": {"math": (1, 4), "physics": (0, 6)},
    "2001": {"math": (1, 2), "physics": (1, 3)}, "2002": {"math": (0, 4), "history": (0, 5)},
    "2003": {"math": (1, 6), "physics": (1, 6)}, "2004": {"math": None, "history": (1, 1)},
}
JOINT_PREVIOUS_SCORES = {
    "1001": {"math": (1, 4), "physics": (1, 2)}, "1002": {"math": (1, 3), "physics": (0, 6)},
    "1003": {"math": (1, 2), "history": (1, 3)}, "1004": {"math": (1, 5), "physics": (1, 0)},
    "2001": {"math": (0, 4), "physics": (0, 5)}, "2002": {"math": (0, 6), "history": (1, 2)},
    "2003": {"math": (1, 2), "physics": (1, 3)}, "2004": {"math": (0, 5), "history": (0, 5)},
}
# 工号, 姓名, 学校, 班级, 科目, 职务
JOINT_TEACHERS = [
    ("TA1", "一中数学", "一中", "1、2", "数学", "任课"), ("TA2", "一中物理", "一中", "1、2", "物理", "任课"),
    ("TA3", "一中历史", "一中", "2", "历史", "任课"), ("TA1", "一中数学", "一中", "1", "", "班主任"),
    ("TA9", "一中主任", "一中", "1", "", "年级主任"),
    ("TB1", "二中数学", "二中", "1、2", "数学", "任课"), ("TB2", "二中物理", "二中", "1、2", "物理", "任课"),
    ("TB3", "二中历史", "二中", "1、2", "历史", "任课"), ("TB9", "二中主任", "二中", "1", "", "年级主任"),
    ("TB8", "二中数学组长", "二中", "1", "数学", "备课组长"),
    ("TD1", "教研室", "", "全部", "", "联考负责人"),
]


def joint_exam(root: Path, exam_id: str = "joint-2026-11", previous: str | None = "joint-2026-10",
               scores: dict | None = None) -> Path:
    """The joint exam folder; scores default to JOINT_SCORES (JOINT_PREVIOUS_SCORES for the previous)."""
    scores = scores or JOINT_SCORES
    exam = {"id": exam_id, "name": "联考", "date": "2026-11-20", "grade": "高三", "subjects": JOINT_SUBJECTS,
            "cut_lines": {"physics": [{"name": "本科线", "top": 2}], "history": [{"name": "本科线", "score": 10}]}}
    if previous:
        exam["previous"] = previous
    folder = root / exam_id
    write_yaml(folder / "exam.yaml", exam)
    write_csv(folder / "roster.csv", ["学号", "姓名", "学校", "班级", "考号", "类别"], JOINT_ROSTER)
    write_csv(folder / "teachers.csv", ["工号", "姓名", "学校", "班级", "科目", "职务"], JOINT_TEACHERS)
    for s in JOINT_SUBJECTS:
        code = s["code"]
        taking = [(no, sc[code]) for no, sc in scores.items() if code in sc]
        write_csv(folder / "scans" / f"{code}.csv", ["考号", "缺考", "1"],
                  [(no, "1" if v is None else "0", "" if v is None else "AB"[1 - v[0]]) for no, v in taking])
        write_csv(folder / "marks" / f"{s['name']}小题分.csv", ["考号", "2"],
                  [(no, v[1]) for no, v in taking if v is not None])
    return folder
