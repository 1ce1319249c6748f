"""Every abnormal code of rules.md §3 on a hand-built folder: raised with its id, severity and
default treatment, settled by each action that fits (and refused for one that does not).

The folder is the mini exam of tests/builders.py (hand-computed scores there); S06 (exam number
0203, class 2) is the student each scenario disturbs. Clean S06: math 7.5 = 0+4+2+mean(1,2), biology 5.
"""
import copy
import csv

import pytest

from tests.builders import (BIO_MARKS, BIO_SCAN_HEADER, BIO_SCANS, MATH_MARK_HEADER, MATH_MARKS, MATH_SCAN_HEADER,
                            MATH_SCANS, MINI_EXAM, mini_exam, write_csv, write_yaml)
from tests.conftest import query, query_dicts, run


class Scenario:
    def __init__(self, tmp_path, exam=None):
        self.folder = mini_exam(tmp_path / "exams", exam=exam)
        self.wh = tmp_path / "wh" / "warehouse.duckdb"

    def math_scans(self, rows, header=MATH_SCAN_HEADER):
        write_csv(self.folder / "scans" / "math.csv", header, rows)

    def bio_scans(self, rows, header=BIO_SCAN_HEADER):
        write_csv(self.folder / "scans" / "biology.csv", header, rows)

    def math_marks(self, rows, header=MATH_MARK_HEADER):
        write_csv(self.folder / "marks" / "math_marks.csv", header, rows)

    def run(self):
        run(self.folder, self.wh)
        return self

    def problem(self, abnormal_id):
        rows = query_dicts(self.wh, "SELECT * FROM mart.abnormal_scripts WHERE abnormal_id = ?", [abnormal_id])
        return rows[0] if rows else None

    def ids(self, code=None):
        return {r[0] for r in query(self.wh, "SELECT abnormal_id FROM mart.abnormal_scripts WHERE code = coalesce(?, code)",
                                    [code])}

    def subject(self, student, subject):
        rows = query(self.wh, "SELECT status, raw_score FROM mart.subject_scores WHERE student_id = ? AND subject = ?",
                     [student, subject])
        return rows[0] if rows else None

    def settle(self, abnormal_id, action, value=""):
        """Replace the test's resolution file with one settlement and re-run."""
        path = self.folder / "resolutions" / "test.csv"
        path.parent.mkdir(exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["abnormal_id", "action", "value", "operator", "at", "note"])
            w.writerow([abnormal_id, action, value, "王老师", "2026-11-21T09:00:00", "测试"])
        self.run()
        errors = query(self.wh, "SELECT reason FROM mart.resolution_errors WHERE abnormal_id = ?", [abnormal_id])
        return errors[0][0] if errors else None

    def assert_raised(self, abnormal_id, severity, treatment):
        p = self.problem(abnormal_id)
        assert p is not None, f"{abnormal_id} not among {self.ids()}"
        assert (p["severity"], p["status"], p["treatment"]) == (severity, "open", treatment)
        return p

    def assert_refused(self, abnormal_id, action, value=""):
        reason = self.settle(abnormal_id, action, value)
        assert reason and f"{action} does not settle" in reason, reason
        assert self.problem(abnormal_id)["status"] == "open"


def _without(rows, exam_no):
    return [r for r in rows if r[0] != exam_no and (len(r) < 2 or r[1] != exam_no)]


def test_unknown_exam_no(tmp_path):
    s = Scenario(tmp_path)
    s.math_scans(MATH_SCANS[:5] + [("9999", "0", "C", "C", "A")])
    s.math_marks(MATH_MARKS[:5] + [("9999", "4", "1", "T01", "2", "T02")])
    s.run()
    aid = "UNKNOWN_EXAM_NO:math:math.csv#7"
    p = s.assert_raised(aid, "blocking", "不计入统计")
    assert p["exam_no"] == "9999" and p["source_row"] == 7
    assert s.subject("S06", "math") == ("pending", None)  # MISSING_SCRIPT:math:S06 meanwhile
    assert "MISSING_SCRIPT:math:S06" in s.ids()
    s.assert_refused(aid, "accept")
    assert s.settle(aid, "assign_student", "S06") is None
    assert s.problem(aid)["status"] == "settled" and s.problem(aid)["student_id"] == "S06"
    assert s.subject("S06", "math") == ("ok", 7.5)  # the marks of 9999 follow the script
    assert "MISSING_SCRIPT:math:S06" not in s.ids()
    assert s.settle(aid, "void") is None
    assert s.problem(aid)["status"] == "settled"
    assert s.problem("MISSING_SCRIPT:math:S06")["status"] == "open"
    assert s.settle(aid, "assign_student", "S99").startswith("assign_student: no student S99")


def test_duplicate_scan(tmp_path):
    s = Scenario(tmp_path)
    s.math_scans(MATH_SCANS + [("0101", "0", "a", "c", "DBA")])  # the same answers, read again
    s.run()
    aid = "DUPLICATE_SCAN:math:math.csv#8"
    s.assert_raised(aid, "warning", "只计一份")
    assert s.subject("S01", "math") == ("ok", 20)
    s.assert_refused(aid, "mark_absent")
    for action in ("accept", "void"):
        assert s.settle(aid, action) is None
        assert s.problem(aid)["status"] == "settled" and s.subject("S01", "math") == ("ok", 20)


def test_duplicate_conflict(tmp_path):
    s = Scenario(tmp_path)
    # S06's sheet was bubbled 0101 by mistake: two different scripts for S01
    s.math_scans(MATH_SCANS[:5] + [("0101", "0", "C", "C", "A")])
    s.run()
    aid = "DUPLICATE_CONFLICT:math:math.csv#7"
    s.assert_raised(aid, "blocking", "不计入统计")
    assert s.subject("S01", "math") == ("pending", None)
    s.assert_refused(aid, "mark_absent")
    assert s.settle(aid, "void") is None
    assert s.subject("S01", "math") == ("ok", 20)
    assert s.settle(aid, "assign_student", "S06") is None
    assert s.subject("S01", "math") == ("ok", 20)
    # marks join by the exam number as scanned, so S06's copy carries 0101's marks: 0+4+2+6
    assert s.subject("S06", "math") == ("ok", 12)


def test_missing_script(tmp_path):
    s = Scenario(tmp_path)
    s.math_scans(MATH_SCANS[:5])
    s.run()
    aid = "MISSING_SCRIPT:math:S06"
    s.assert_raised(aid, "blocking", "不计入统计")
    assert s.subject("S06", "math") == ("pending", None)
    assert query(s.wh, "SELECT status FROM mart.totals WHERE student_id = 'S06'") == [("pending",)]
    s.assert_refused(aid, "accept")
    assert s.settle(aid, "mark_absent") is None
    assert s.subject("S06", "math") == ("absent", None)
    assert query(s.wh, "SELECT status FROM mart.totals WHERE student_id = 'S06'") == [("incomplete",)]


def test_absent_but_answered(tmp_path):
    s = Scenario(tmp_path)
    s.math_scans(MATH_SCANS[:5] + [("0203", "1", "C", "C", "A")])
    s.run()
    aid = "ABSENT_BUT_ANSWERED:math:math.csv#7"
    s.assert_raised(aid, "blocking", "不计入统计")
    assert s.subject("S06", "math") == ("pending", None)
    s.assert_refused(aid, "void")
    assert s.settle(aid, "mark_absent") is None
    assert s.subject("S06", "math") == ("absent", None)
    assert s.settle(aid, "accept") is None
    assert s.subject("S06", "math") == ("ok", 7.5)


def test_not_enrolled(tmp_path):
    s = Scenario(tmp_path)
    # S03 does not take biology; S06's biology sheet was bubbled with S03's number
    s.bio_scans(BIO_SCANS[:4] + [("B6", "0103", "0", "D")])
    write_csv(s.folder / "marks" / "生物小题分.csv", ["考号", "2"], BIO_MARKS[:4] + [("0103", "5")])
    s.run()
    aid = "NOT_ENROLLED:biology:B6"
    s.assert_raised(aid, "blocking", "不计入统计")
    assert s.subject("S03", "biology") == ("pending", None)
    assert query(s.wh, "SELECT status, total FROM mart.totals WHERE student_id = 'S03'") == [("ok", 14)]
    s.assert_refused(aid, "mark_absent")
    assert s.settle(aid, "accept") is None
    assert s.subject("S03", "biology") == ("ok", 5)
    assert query(s.wh, "SELECT total FROM mart.totals WHERE student_id = 'S03'") == [(14,)]
    assert s.settle(aid, "void") is None
    assert s.subject("S03", "biology") is None
    assert s.settle(aid, "assign_student", "S06") is None
    assert s.subject("S06", "biology") == ("ok", 5) and s.subject("S03", "biology") is None
    assert "MISSING_SCRIPT:biology:S06" not in s.ids()


def test_orphan_marks(tmp_path):
    s = Scenario(tmp_path)
    s.math_marks(MATH_MARKS[:5] + [("0999", "4", "1", "T01", "2", "T02")])
    s.run()
    aid = "ORPHAN_MARKS:math:0999"
    s.assert_raised(aid, "blocking", "不计入统计")
    assert s.problem("UNMARKED:math:0203:4")["status"] == "open"
    s.assert_refused(aid, "accept")
    assert s.settle(aid, "assign_student", "S06") is None
    assert s.subject("S06", "math") == ("ok", 7.5)
    assert "UNMARKED:math:0203:4" not in s.ids()
    assert s.settle(aid, "void") is None
    assert s.problem(aid)["status"] == "settled" and s.subject("S06", "math") == ("pending", None)


def test_page_missing(tmp_path):
    exam = copy.deepcopy(MINI_EXAM)
    exam["subjects"][0]["pages"] = 2
    s = Scenario(tmp_path, exam=exam)
    s.math_scans([(*r[:2], "2" if r[0] != "0203" else "1", *r[2:]) for r in MATH_SCANS],
                 header=["考号", "缺考", "页数", "1", "2", "3"])
    s.run()
    aid = "PAGE_MISSING:math:math.csv#7"
    s.assert_raised(aid, "blocking", "不计入统计")
    s.assert_refused(aid, "set_score", "4=1")
    assert s.settle(aid, "accept") is None
    assert s.subject("S06", "math") == ("ok", 7.5)
    assert s.settle(aid, "void") is None
    assert s.subject("S06", "math") == ("void", None)
    assert query(s.wh, "SELECT status FROM mart.totals WHERE student_id = 'S06'") == [("incomplete",)]


def test_unmarked(tmp_path):
    s = Scenario(tmp_path)
    s.math_marks(MATH_MARKS[:5])
    s.run()
    aid = "UNMARKED:math:0203:4"
    s.assert_raised(aid, "blocking", "不计入统计")
    s.assert_refused(aid, "accept")
    assert "not a multiple of 0.5 in [0, 6" in s.settle(aid, "set_score", "4=7")
    assert "names item 3" in s.settle(aid, "set_score", "3=1")
    assert s.settle(aid, "set_score", "4=3") is None
    assert s.subject("S06", "math") == ("ok", 9)


def test_marker_disagreement(tmp_path):
    s = Scenario(tmp_path)
    s.math_marks(MATH_MARKS[:5] + [("0203", "4", "1", "T01", "5", "T02")])
    s.run()
    aid = "MARKER_DISAGREEMENT:math:0203:4"
    s.assert_raised(aid, "blocking", "不计入统计")
    s.assert_refused(aid, "void")
    assert s.settle(aid, "set_score", "4=4") is None
    assert s.subject("S06", "math") == ("ok", 10)


def test_arbitration_settles_a_disagreement_by_itself(tmp_path):
    s = Scenario(tmp_path)
    s.math_marks([(*r, "", "") for r in MATH_MARKS[:5]] + [("0203", "4", "1", "T01", "5", "T02", "3.5", "T09")],
                 header=MATH_MARK_HEADER + ["仲裁", "仲裁教师"])
    s.run()
    assert s.ids("MARKER_DISAGREEMENT") == set()
    assert s.subject("S06", "math") == ("ok", 9.5)


@pytest.mark.parametrize("bad", ["7", "2.3", "abc"])
def test_score_out_of_range(tmp_path, bad):
    s = Scenario(tmp_path)
    s.math_marks(MATH_MARKS[:5] + [("0203", "4", bad, "T01", "2", "T02")])
    s.run()
    aid = "SCORE_OUT_OF_RANGE:math:0203:4"
    s.assert_raised(aid, "blocking", "不计入统计")
    s.assert_refused(aid, "accept")
    assert s.settle(aid, "set_score", "4=2") is None
    assert s.subject("S06", "math") == ("ok", 8)


def test_marker_flagged(tmp_path):
    s = Scenario(tmp_path)
    s.math_marks([(*r, "") for r in MATH_MARKS[:5]] + [("0203", "4", "1", "T01", "2", "T02", "疑似雷同")],
                 header=MATH_MARK_HEADER + ["问题卷"])
    s.run()
    aid = "MARKER_FLAGGED:math:0203"
    p = s.assert_raised(aid, "blocking", "不计入统计")
    assert "疑似雷同" in p["detail"]
    s.assert_refused(aid, "mark_absent")
    assert s.settle(aid, "accept") is None
    assert s.subject("S06", "math") == ("ok", 7.5)
    assert s.settle(aid, "set_score", "4=0") is None
    assert s.subject("S06", "math") == ("ok", 6)
    assert s.settle(aid, "void") is None
    assert s.subject("S06", "math") == ("void", None)


def test_multi_mark(tmp_path):
    s = Scenario(tmp_path)
    s.math_scans(MATH_SCANS[:5] + [("0203", "0", "AB", "C", "A")])
    s.run()
    aid = "MULTI_MARK:math:math.csv#7:1"
    s.assert_raised(aid, "warning", "该题0分")
    assert s.subject("S06", "math") == ("ok", 7.5)  # item 1 scores 0, the script counts
    s.assert_refused(aid, "void")
    assert s.settle(aid, "accept") is None
    assert s.subject("S06", "math") == ("ok", 7.5)
    assert s.settle(aid, "set_score", "1=4") is None
    assert s.subject("S06", "math") == ("ok", 11.5)


@pytest.mark.parametrize("read", ["?", "*", "E"])
def test_unreadable_mark(tmp_path, read):
    s = Scenario(tmp_path)
    s.math_scans(MATH_SCANS[:5] + [("0203", "0", "C", read, "A")])
    s.run()
    aid = "UNREADABLE_MARK:math:math.csv#7:2"
    s.assert_raised(aid, "warning", "该题0分")
    assert s.subject("S06", "math") == ("ok", 3.5)
    s.assert_refused(aid, "mark_absent")
    assert s.settle(aid, "accept") is None
    assert s.subject("S06", "math") == ("ok", 3.5)
    assert s.settle(aid, "set_score", "2=4") is None
    assert s.subject("S06", "math") == ("ok", 7.5)


def test_all_blank(tmp_path):
    s = Scenario(tmp_path)
    s.math_scans(MATH_SCANS[:5] + [("0203", "0", "", "-", "")])
    s.run()
    aid = "ALL_BLANK:math:math.csv#7"
    s.assert_raised(aid, "warning", "按原样计分")
    assert s.subject("S06", "math") == ("ok", 1.5)
    s.assert_refused(aid, "void")
    assert s.settle(aid, "accept") is None
    assert s.subject("S06", "math") == ("ok", 1.5)
    assert s.settle(aid, "mark_absent") is None
    assert s.subject("S06", "math") == ("absent", None)


def test_scan_error(tmp_path):
    s = Scenario(tmp_path)
    s.bio_scans(BIO_SCANS[:4])
    manual = s.folder / "scans" / "生物" / "Manual"
    manual.mkdir(parents=True)
    (manual / "ErrorFiles.csv").write_text('"file_id","input_path","output_path","score","Roll","q1"\n'
                                           '"b9.jpg","in/b9.jpg","out/b9.jpg","NA","0203"\n', encoding="utf-8")
    s.run()
    aid = "SCAN_ERROR:biology:b9.jpg"
    p = s.assert_raised(aid, "blocking", "不计入统计")
    assert p["student_id"] == "S06"
    assert s.subject("S06", "biology") == ("pending", None)
    assert "MISSING_SCRIPT:biology:S06" not in s.ids()
    s.assert_refused(aid, "accept")
    assert s.settle(aid, "void") is None
    # the voided sheet must be rescanned: until then S06's biology script is missing
    assert s.problem("MISSING_SCRIPT:biology:S06")["status"] == "open"
    s.bio_scans(BIO_SCANS)
    s.run()
    assert s.subject("S06", "biology") == ("ok", 5)


def test_version_unknown(tmp_path):
    exam = copy.deepcopy(MINI_EXAM)
    exam["subjects"][0]["items"][0]["key"] = {"A": "A", "B": "B"}
    s = Scenario(tmp_path, exam=exam)
    s.math_scans([(*r, "A") for r in MATH_SCANS[:5]] + [("0203", "0", "B", "C", "A", "")],
                 header=MATH_SCAN_HEADER + ["试卷类型"])
    s.run()
    aid = "VERSION_UNKNOWN:math:math.csv#7"
    s.assert_raised(aid, "blocking", "不计入统计")
    assert s.subject("S06", "math") == ("pending", None)
    s.assert_refused(aid, "accept")
    assert "not a paper version" in s.settle(aid, "set_version", "C")
    assert s.settle(aid, "set_version", "B") is None
    assert s.subject("S06", "math") == ("ok", 11.5)  # B on item 1 is right on paper B: 4+4+2+1.5
    assert s.settle(aid, "void") is None
    assert s.subject("S06", "math") == ("void", None)


def test_optional_choice_conflict(tmp_path):
    exam = copy.deepcopy(MINI_EXAM)
    bio = exam["subjects"][1]
    bio["full"] = 10
    bio["items"] = [{"id": "1", "type": "single", "full": 5, "key": "B"},
                    {"id": "2", "type": "subjective", "full": 5}, {"id": "3", "type": "subjective", "full": 5}]
    bio["optional_groups"] = [{"items": ["2", "3"], "choose": 1}]
    s = Scenario(tmp_path, exam=exam)
    s.bio_scans([(*r, "2") for r in BIO_SCANS[:4]] + [("B5", "0203", "0", "D", "")], header=BIO_SCAN_HEADER + ["选做"])
    write_csv(s.folder / "marks" / "生物小题分.csv", ["考号", "2", "3"],
              [(r[0], r[1], "") for r in BIO_MARKS[:4]] + [("0203", "2", "4")])
    s.run()
    aid = "OPTIONAL_CHOICE_CONFLICT:biology:B5:2"
    s.assert_raised(aid, "warning", "按前k道已评题计分")
    assert s.subject("S06", "biology") == ("ok", 2)  # the first marked item of the group counts
    assert s.ids("UNMARKED") == set()  # items that do not count are never UNMARKED
    s.assert_refused(aid, "void")
    assert s.settle(aid, "choose_optional", "3") is None
    assert s.subject("S06", "biology") == ("ok", 4)
    counted = dict(query(s.wh, "SELECT item, counted FROM mart.item_scores WHERE student_id = 'S06' "
                               "AND subject = 'biology' AND item IN ('2', '3')"))
    assert counted == {"2": False, "3": True}
    assert s.settle(aid, "accept") is None
    assert s.subject("S06", "biology") == ("ok", 2)


def test_resolution_for_unknown_id_and_missing_operator(tmp_path):
    s = Scenario(tmp_path).run()
    assert "no such abnormal script" in s.settle("UNMARKED:math:0101:4", "set_score", "4=1")
    assert "unknown abnormal id" in s.settle("NONSENSE:math:1", "accept")
    path = s.folder / "resolutions" / "test.csv"
    path.write_text("abnormal_id,action,value,operator\nUNMARKED:math:0101:4,set_score,4=1,\n", encoding="utf-8")
    s.run()
    assert query(s.wh, "SELECT reason FROM mart.resolution_errors") == [("operator is required",)]


def test_later_resolution_supersedes(tmp_path):
    s = Scenario(tmp_path)
    s.math_marks(MATH_MARKS[:5])
    s.run()
    path = s.folder / "resolutions" / "a.csv"
    path.parent.mkdir()
    path.write_text("abnormal_id,action,value,operator,at,note\n"
                    "UNMARKED:math:0203:4,set_score,4=1,王老师,2026-11-21T09:00,\n"
                    "UNMARKED:math:0203:4,set_score,4=2,李组长,2026-11-21T10:00,复核\n", encoding="utf-8")
    s.run()
    assert s.subject("S06", "math") == ("ok", 8)
    assert s.problem("UNMARKED:math:0203:4")["settled_by"] == "李组长"
