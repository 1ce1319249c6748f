"""Every accepted input shape of inputs.md lands in `raw` with its lineage: encodings, delimiters,
XLSX title rows and merged headers, header aliases, subject from the file name, OMRChecker."""
import hashlib

import openpyxl
import pytest
from openpyxl.styles import Alignment

from examflow.ingest import read_exam_folder
from tests.builders import MINI_EXAM, mini_exam, write_csv, write_yaml
from tests.conftest import query, query_dicts, run

EXAM = "mini-2026"


def test_tiny_example_raw_layer(tiny, wh):
    run(tiny, wh)
    counts = dict(query(wh, "SELECT source_file, rows FROM raw.files WHERE exam_id = 'tiny-2026-11'"))
    assert counts == {"roster.csv": 6, "teachers.csv": 6, "scans/chemistry.csv": 6, "scans/math.csv": 6,
                      "marks/math_marks.csv": 6, "marks/化学小题分.csv": 5, "resolutions/2026-11-13.csv": 3}
    # the GBK-encoded wide marking table: its 科目 column decoded and mapped to the subject code
    gbk = query_dicts(wh, "SELECT * FROM raw.marks WHERE source_file = 'marks/化学小题分.csv' ORDER BY source_row")
    assert [r["subject"] for r in gbk] == ["chemistry"] * 5
    assert [(r["exam_no"], r["item"], r["score1"], r["source_row"]) for r in gbk][-1] == ("2003", "2", None, 6)
    sha = hashlib.sha256((tiny / "marks" / "化学小题分.csv").read_bytes()).hexdigest()
    assert {r["file_sha256"] for r in gbk} == {sha}
    assert all(r["ingested_at"] is not None for r in gbk)
    names = [r[0] for r in query(wh, "SELECT name FROM raw.roster ORDER BY source_row")]
    assert names == ["张三", "李四", "王五", "赵六", "钱七", "孙八"]
    rows = query(wh, "SELECT source_row, exam_no, responses FROM raw.scans WHERE source_file = 'scans/math.csv' "
                     "ORDER BY source_row")
    assert rows[-1] == (7, "2009", {"1": "A", "2": "*", "3": "B"})


def test_gbk_gb18030_tab_semicolon_and_leading_zeros(tmp_path):
    folder = mini_exam(tmp_path)
    roster = [("S01", "𠮷昇", "高三(1)班", "0101", "物理类", "生物"), *[r for r in
              __import__("tests.builders", fromlist=["MINI_ROSTER"]).MINI_ROSTER[1:]]]
    write_csv(folder / "roster.csv", ["学号", "姓名", "班级", "考号", "类别", "选科"], roster, encoding="gb18030")
    (folder / "scans" / "math.csv").unlink()
    write_csv(folder / "scans" / "数学_第一批.csv", ["准考证号", "缺考标记", "第1题", "第2题", "第3题"],
              [("0101", "否", "A", "C", "ABD"), ("0102", "否", "a", "b", "ab")], encoding="gbk", delimiter="\t")
    write_csv(folder / "scans" / "math_batch2.csv", ["Exam No", "ABSENT", "Q1", "Q2", "Q3"],
              [("0103", "", "B", "C", "ABD"), ("0201", "", "A", "C", "D"), ("0202", "", "A", "C", "ABD"),
               ("0203", "", "C", "C", "A")], delimiter=";")
    raw = read_exam_folder(folder)
    assert raw.frames["roster"]["name"][0] == "𠮷昇"
    scans = raw.frames["scans"].sort("source_file", "source_row")
    math = scans.filter(scans["subject"] == "math")
    assert math.height == 6
    assert math["exam_no"].to_list() == ["0103", "0201", "0202", "0203", "0101", "0102"]
    first = math.filter(math["source_file"] == "scans/数学_第一批.csv")
    assert first["source_row"].to_list() == [2, 3]
    assert first["absent"].to_list() == ["否", "否"]
    assert {e["key"]: e["value"] for e in first["responses"][1]} == {"1": "a", "2": "b", "3": "ab"}


def test_xlsx_with_title_rows_and_merged_header(tmp_path, wh):
    folder = mini_exam(tmp_path)
    (folder / "scans" / "math.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "2026-2027学年高三期中考试 数学 扫描结果"
    ws.merge_cells("A1:F1")
    ws["A2"] = "导出时间: 2026-11-20"
    for col, name in zip("ABC", ["扫描序号", "考号", "缺考"]):
        ws[f"{col}3"] = name
        ws.merge_cells(f"{col}3:{col}4")
    ws["D3"] = "客观题"
    ws.merge_cells("D3:F3")
    ws["D4"], ws["E4"], ws["F4"] = "1", "2", "3"
    ws["A3"].alignment = Alignment(horizontal="center")
    data = [("M1", 101, 0, "A", "C", "ABD"), ("M2", 102, 0, "A", "B", "AB"), ("M3", 103, 0, "B", "C", "ABD"),
            ("M4", 201, 0, "A", "C", "D"), ("M5", 202, 0, "A", "C", "ABD"), ("M6", 203, 0, "C", "C", "A")]
    for r, row in enumerate(data, start=5):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=v)
            if c == 2:
                cell.number_format = "0000"
    wb.save(folder / "scans" / "数学.xlsx")
    run(folder, wh)
    rows = query(wh, "SELECT script_id, exam_no, source_row, responses FROM raw.scans WHERE subject = 'math' "
                     "ORDER BY source_row")
    assert [r[0] for r in rows] == ["M1", "M2", "M3", "M4", "M5", "M6"]
    assert [r[1] for r in rows] == ["0101", "0102", "0103", "0201", "0202", "0203"]
    assert [r[2] for r in rows] == [5, 6, 7, 8, 9, 10]
    assert rows[1][3] == {"1": "A", "2": "B", "3": "AB"}
    # the workbook's scripts are scored like any other: S01 has math 20
    assert query(wh, "SELECT raw_score FROM mart.subject_scores WHERE student_id = 'S01' AND subject = 'math'") == [(20.0,)]


def test_omrchecker_results_and_manual_files(tmp_path, wh):
    exam = {**MINI_EXAM, "omr": {"exam_no_fields": ["Roll"], "item_prefix": "q", "empty_value": ""}}
    folder = mini_exam(tmp_path, exam=exam)
    (folder / "scans" / "biology.csv").unlink()
    omr = folder / "scans" / "生物"
    header = ["file_id", "input_path", "output_path", "score", "Roll", "q1"]
    write_csv(omr / "Results" / "Results_10AM.csv", header, [
        ("b1.jpg", "in/b1.jpg", "out/b1.jpg", "5", "0101", "B"),
        ("b2.jpg", "in/b2.jpg", "out/b2.jpg", "0", "0102", "A"),
        ("b3.jpg", "in/b3.jpg", "out/b3.jpg", "5", "0201", "B"),
        ("b4.jpg", "in/b4.jpg", "out/b4.jpg", "0", "0202", ""),
        ("b4.jpg", "in/b4.jpg", "out/b4.jpg", "0", "0202", ""),
    ], quote_all=True)
    (omr / "Manual").mkdir()
    (omr / "Manual" / "ErrorFiles.csv").write_text(
        '"file_id","input_path","output_path","score","Roll","q1"\n"b5.jpg","in/b5.jpg","out/b5.jpg","NA"\n',
        encoding="utf-8")
    write_csv(omr / "Manual" / "MultiMarkedFiles.csv", header,
              [("b6.jpg", "in/b6.jpg", "out/b6.jpg", "0", "0203", "BD")], quote_all=True)
    run(folder, wh)
    rows = query_dicts(wh, "SELECT * FROM raw.scans WHERE subject = 'biology' ORDER BY source_file, source_row")
    assert [(r["shape"], r["script_id"], r["exam_no"]) for r in rows] == [
        ("omr_error", "b5.jpg", None), ("omr_multi", "b6.jpg", "0203"),
        ("omr", "b1.jpg", "0101"), ("omr", "b2.jpg", "0102"), ("omr", "b3.jpg", "0201"),
        ("omr", "b4.jpg", "0202"), ("omr", "b4.jpg", "0202")]
    assert rows[0]["source_file"] == "scans/生物/Manual/ErrorFiles.csv" and rows[0]["source_row"] == 2
    codes = dict(query(wh, "SELECT abnormal_id, severity FROM mart.abnormal_scripts WHERE subject = 'biology'"))
    assert codes["SCAN_ERROR:biology:b5.jpg"] == "blocking"
    assert codes["DUPLICATE_SCAN:biology:b4.jpg"] == "warning"
    assert codes["MULTI_MARK:biology:b6.jpg:1"] == "warning"


def test_aliases_items_table_and_subject_from_file_name(tmp_path, wh):
    exam = {**MINI_EXAM, "subjects": [MINI_EXAM["subjects"][0],
                                      {k: v for k, v in MINI_EXAM["subjects"][1].items() if k != "items"}]}
    folder = mini_exam(tmp_path, exam=exam)
    write_csv(folder / "items.csv", ["科目", "题号", "题型", "满分", "答案", "知识点"],
              [("生物", "1", "单选", "5", "B", "细胞"), ("生物", "2", "subjective", "5", "", "遗传")])
    (folder / "marks" / "math_marks.csv").unlink()
    write_csv(folder / "marks" / "数学阅卷.csv", [" Exam_No ", "ITEM", "Score 1", "marker1", "SCORE2", "Marker 2"], [
        ("0101", "4", "6", "T01", "6", "T02"), ("0102", "4", "2", "T01", "3", "T02"),
        ("0103", "4", "4", "T01", "4", "T02"), ("0201", "4", "5", "T01", "4", "T02"),
        ("0202", "4", "3", "T01", "3", "T02"), ("0203", "4", "1", "T01", "2", "T02")])
    run(folder, wh)
    items = query(wh, "SELECT item, type, full_marks, knowledge, source_file, source_row FROM raw.items "
                      "WHERE subject = 'biology' ORDER BY item")
    assert items == [("1", "single", 5.0, "细胞", "items.csv", 2), ("2", "subjective", 5.0, "遗传", "items.csv", 3)]
    marks = query(wh, "SELECT subject, exam_no, score1, score2 FROM raw.marks WHERE source_file = 'marks/数学阅卷.csv' "
                      "ORDER BY source_row")
    assert marks[0] == ("math", "0101", "6", "6") and len(marks) == 6
    assert query(wh, "SELECT raw_score FROM mart.subject_scores WHERE student_id = 'S02' AND subject = 'math'") == [(10.5,)]


def test_teachers_and_rooms_xlsx(tmp_path, wh):
    folder = mini_exam(tmp_path)
    write_csv(folder / "teachers.csv", ["工号", "姓名", "班级", "科目", "职务"],
              [("T01", "陈老师", "1", "数学", "任课"), ("T01", "陈老师", "1", "", "班主任")])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["考场安排"])
    ws.append(["考场号", "地点", "座位数"])
    ws.append(["01", "教学楼101", 30])
    ws.append(["02", "教学楼102", "30"])
    wb.save(folder / "rooms.xlsx")
    run(folder, wh)
    assert query(wh, "SELECT room, location, capacity, source_row FROM raw.rooms ORDER BY source_row") == [
        ("01", "教学楼101", "30", 3), ("02", "教学楼102", "30", 4)]
    assert query(wh, "SELECT teacher_id, name, subject, role FROM raw.teachers ORDER BY source_row") == [
        ("T01", "陈老师", "数学", "任课"), ("T01", "陈老师", None, "班主任")]
