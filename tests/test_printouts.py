"""Printouts (outputs.md, Printouts; rules.md §9): the five workbooks and the class PDFs of the tiny
example, written by the real pipeline (`examflow run` with printouts), checked against the
warehouse and EXPECTED.md; file safety, audit rows, missing tables, joint-exam class ids, the
Dagster assets."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import copy_fixture, query, query_dicts, run

EXAM = "tiny-2026-11"
FORMULA_NAME = '=HYPERLINK("x")'
WORKBOOKS = ["成绩总表.xlsx", "班级量化表.xlsx", "教师量化表.xlsx", "小题分析.xlsx", "异常卷.xlsx"]
NAMES = {"S01": "张三", "S02": FORMULA_NAME, "S03": "王五", "S04": "赵六", "S05": "钱七", "S06": "孙八"}


def _rewrite_csv(path: Path, edit) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    rows = edit(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.fixture(scope="session")
def printed(tmp_path_factory) -> dict:
    """The tiny example with S02 named =HYPERLINK("x") and scan image paths on the chemistry
    sheets, run once through the pipeline with printouts."""
    base = tmp_path_factory.mktemp("printouts")
    folder = copy_fixture("tiny", base / "exams")

    def rename(rows):
        for r in rows[1:]:
            if r[0] == "S02":
                r[1] = FORMULA_NAME
        return rows

    def images(rows):
        rows[0].append("图像")
        for r in rows[1:]:
            r.append(f"images/chemistry/{r[0]}.jpg")
        return rows

    _rewrite_csv(folder / "roster.csv", rename)
    _rewrite_csv(folder / "scans" / "chemistry.csv", images)
    wh = base / "wh" / "warehouse.duckdb"
    run(folder, wh, printouts=True)
    return {"wh": wh, "out": wh.parent / "output" / EXAM, "folder": folder}


def pdf_text(path: Path) -> str:
    """pypdf may put a NUL before each CJK character of a CID font: drop NULs and whitespace."""
    reader = PdfReader(str(path))
    return re.sub(r"\s+", "", "".join((p.extract_text() or "") for p in reader.pages).replace("\x00", ""))


def header(ws) -> list:
    return [c.value for c in ws[1]]


def rows_by(ws, key_col: str) -> dict:
    head = header(ws)
    j = head.index(key_col)
    return {r[j]: dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True) if r[j] is not None}


def assert_print_setup(ws) -> None:
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    assert str(ws.page_setup.paperSize) == "9"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert "&P" in ws.oddFooter.center.text
    assert all(c.font.b for c in ws[1] if c.value is not None)


# ------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------
def test_every_printout_is_written_owner_only(printed):
    out = printed["out"]
    for name in WORKBOOKS:
        assert (out / name).is_file(), name
    for d in ("成绩单", "成绩条"):
        assert sorted(p.name for p in (out / d).iterdir()) == ["1.pdf", "2.pdf"]
    files = [p for p in out.rglob("*")]
    for p in files + [out]:
        mode = p.stat().st_mode & 0o777
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))
    # no student name (nor student id) in any file name; no temporary files left behind
    for p in files:
        for sid, name in NAMES.items():
            assert name not in p.name and sid not in p.name
        assert not p.name.startswith(".tmp-")


# ------------------------------------------------------------------------------------------
# 成绩总表
# ------------------------------------------------------------------------------------------
def test_grade_scores_workbook(printed):
    wb = load_workbook(printed["out"] / "成绩总表.xlsx")
    assert wb.sheetnames == ["年级", "1班", "2班"]
    grade = wb["年级"]
    assert header(grade) == ["学号", "姓名", "班级", "考号", "类别", "数学", "数学年排", "数学班排", "化学原始分",
                             "化学赋分", "化学等级", "化学年排", "化学班排", "总分", "原始总分", "年级名次",
                             "班级名次", "名次变化"]
    for ws in wb.worksheets:
        assert_print_setup(ws)
    rows = rows_by(grade, "学号")
    assert set(rows) == set(NAMES)
    # EXPECTED.md
    assert rows["S01"]["数学"] == 19.5 and rows["S01"]["化学原始分"] == 9 and rows["S01"]["化学赋分"] == 85
    assert rows["S01"]["化学等级"] == "B" and rows["S01"]["总分"] == 104.5 and rows["S01"]["原始总分"] == 28.5
    assert rows["S05"]["数学"] == "缺考" and rows["S05"]["化学原始分"] is None  # absent; does not take chemistry
    assert rows["S06"]["化学原始分"] == "待定" and rows["S06"]["化学赋分"] == "待定" and rows["S06"]["总分"] == "待定"
    assert rows["S04"]["年级名次"] == 1 and rows["S02"]["班级名次"] == 3
    # the warehouse, cell by cell for the ranks
    for sid, subject, grank, crank in query(printed["wh"], "SELECT student_id, subject, grade_rank, class_rank FROM "
                                            "mart.subject_scores WHERE exam_id = ? AND status = 'ok'", [EXAM]):
        name = "数学" if subject == "math" else "化学"
        assert (rows[sid][f"{name}年排"], rows[sid][f"{name}班排"]) == (grank, crank)
    # grade sheet in rank order, the pending / incomplete students last
    assert [r[0].value for r in grade.iter_rows(min_row=2, max_col=1)] == ["S04", "S01", "S03", "S02", "S05", "S06"]
    # number formats: ids as text, ranks integers, scores as they are (at most one decimal)
    head = header(grade)
    s01 = next(r for r in grade.iter_rows(min_row=2) if r[0].value == "S01")
    assert s01[head.index("学号")].number_format == "@" and s01[head.index("考号")].number_format == "@"
    assert s01[head.index("年级名次")].number_format == "0" and s01[head.index("数学年排")].number_format == "0"
    # the formula-like name is a plain string cell, never a formula
    s02 = next(r for r in grade.iter_rows(min_row=2) if r[0].value == "S02")
    cell = s02[head.index("姓名")]
    assert cell.value == FORMULA_NAME and cell.data_type == "s"
    # class sheets: only the class, in class-rank order
    assert [r[0].value for r in wb["1班"].iter_rows(min_row=2, max_col=1)] == ["S01", "S03", "S02"]
    assert [r[0].value for r in wb["2班"].iter_rows(min_row=2, max_col=1)] == ["S04", "S05", "S06"]
    # never an id card or a phone number
    assert not any(h for h in head if h and ("身份证" in h or "电话" in h or "手机" in h))


# ------------------------------------------------------------------------------------------
# 班级量化表
# ------------------------------------------------------------------------------------------
def test_class_quant_workbook(printed):
    wb = load_workbook(printed["out"] / "班级量化表.xlsx")
    assert wb.sheetnames == ["总分", "数学", "化学", "名次段", "划线", "上线分析", "临界生"]
    for ws in wb.worksheets:
        assert_print_setup(ws)
    math = wb["数学"]
    head = header(math)
    assert head[:8] == ["班级", "类别", "应考", "实考", "缺考", "待定", "作废", "平均分"]
    rows = {(r["班级"]): r for r in (dict(zip(head, v)) for v in math.iter_rows(min_row=2, values_only=True))}
    assert list(rows) == ["1班", "2班", "年级"]
    one = rows["1班"]  # EXPECTED.md: class 1 math
    assert (one["应考"], one["实考"], one["缺考"]) == (3, 3, 0)
    assert one["平均分"] == 12.8 and one["中位数"] == 11 and one["最高分"] == 19.5 and one["最低分"] == 8
    assert one["及格率"] == pytest.approx(1 / 3) and one["低分率"] == 0 and one["均分名次"] == 1
    assert one["比均"] == pytest.approx(1.02667, abs=1e-4) and one["三率一分"] == pytest.approx(45.6667, abs=1e-3)
    assert rows["2班"]["缺考"] == 1 and rows["2班"]["均差"] == -0.5 and rows["年级"]["平均分"] == 12.5
    cell = next(r for r in math.iter_rows(min_row=2) if r[0].value == "1班")
    assert cell[head.index("及格率")].number_format == "0.0%" and cell[head.index("均分名次")].number_format == "0"
    bands = rows_by(wb["名次段"], "班级")
    assert header(wb["名次段"])[:3] == ["班级", "类别", "前10名"] and bands["1班"]["前10名"] == 3
    assert bands["2班"]["前10名"] == 1 and bands["年级"]["前10名"] == 4
    assert header(wb["上线分析"])[:6] == ["类别", "线", "班级", "学科", "有效分", "上线人数"]


# ------------------------------------------------------------------------------------------
# 教师量化表
# ------------------------------------------------------------------------------------------
def test_teacher_quant_workbook_prints_the_formula_beneath(printed):
    wb = load_workbook(printed["out"] / "教师量化表.xlsx")
    assert wb.sheetnames == ["教师量化", "班主任量化", "阅卷质量"]
    formula = query(printed["wh"], "SELECT formula FROM mart.quant_formula WHERE exam_id = ?", [EXAM])[0][0]
    teachers = wb["教师量化"]
    assert header(teachers)[:5] == ["工号", "姓名", "学科", "班级", "类别"]
    values = [r for r in teachers.iter_rows(values_only=True)]
    table = [r for r in values[1:] if r[0] and not str(r[0]).startswith("量化分公式")]
    assert {(r[0], r[3]) for r in table} == {("T01", "1班"), ("T01", "合计"), ("T02", "2班"), ("T02", "合计"),
                                             ("T03", "1班"), ("T03", "2班"), ("T03", "合计")}
    assert values[-1][0] == f"量化分公式：{formula}" and values[-2] == (None,) * len(values[-2])
    head = header(teachers)
    t01 = next(dict(zip(head, r)) for r in table if r[0] == "T01" and r[3] == "1班")
    assert t01["姓名"] == "陈老师" and t01["学科"] == "数学" and t01["实考"] == 3
    assert t01["量化分"] == pytest.approx(45.6667, abs=1e-3)
    heads = wb["班主任量化"]
    hv = [r for r in heads.iter_rows(values_only=True)]
    assert hv[-1][0] == f"量化分公式：{formula}"
    hrows = {r[0]: dict(zip(hv[0], r)) for r in hv[1:] if r[0] in ("T01", "T02")}
    assert hrows["T01"]["班级"] == "1班" and hrows["T01"]["前10名"] == 3  # a number, not text
    assert hrows["T02"]["平均分"] == 115
    marker = rows_by(wb["阅卷质量"], "阅卷人工号")
    assert set(marker) == {"T01", "T02"} and marker["T01"]["阅卷量"] == 6
    for ws in wb.worksheets:
        assert_print_setup(ws)


# ------------------------------------------------------------------------------------------
# 小题分析
# ------------------------------------------------------------------------------------------
def test_item_analysis_workbook(printed):
    wb = load_workbook(printed["out"] / "小题分析.xlsx")
    assert wb.sheetnames == ["小题分析", "选项分布", "信度", "班级小题-数学", "班级小题-化学", "知识点"]
    items = {(r[0], r[1]): dict(zip(header(wb["小题分析"]), r)) for r in wb["小题分析"].iter_rows(min_row=2, values_only=True)}
    m1 = items[("数学", "1")]  # EXPECTED.md: n 5, mean 3.2, difficulty 0.8, discrimination 1.0
    assert (m1["人数"], m1["平均分"], m1["得分率(难度)"], m1["区分度"], m1["题型"]) == (5, 3.2, 0.8, 1, "单选")
    options = {(r[0], r[1]): dict(zip(header(wb["选项分布"]), r)) for r in wb["选项分布"].iter_rows(min_row=2, values_only=True)}
    assert options[("数学", "1")]["答案"] == "A" and options[("数学", "1")]["A"] == pytest.approx(0.8)
    assert options[("数学", "3")]["答案"] == "ABD"
    ci = wb["班级小题-数学"]
    assert header(ci) == ["班级", "第1题", "第2题", "第3题", "第4题"]
    assert [r[0] for r in ci.iter_rows(min_row=2, values_only=True)] == ["年级", "1班", "2班"]
    assert next(ci.iter_rows(min_row=2, values_only=True))[1] == pytest.approx(0.8)
    kn = [dict(zip(header(wb["知识点"]), r)) for r in wb["知识点"].iter_rows(min_row=2, values_only=True)]
    assert {(r["知识点"], r["班级"]) for r in kn} >= {("集合", "年级"), ("集合", "1班"), ("函数", "2班")}
    warehouse = {(r["class_id"], r["knowledge"]): r["score_rate"] for r in query_dicts(
        printed["wh"], "SELECT * FROM mart.knowledge WHERE exam_id = ?", [EXAM])}
    for r in kn:
        cid = "*" if r["班级"] == "年级" else r["班级"].removesuffix("班")
        assert r["得分率"] == pytest.approx(warehouse[(cid, r["知识点"])])
    for ws in wb.worksheets:
        assert_print_setup(ws)


# ------------------------------------------------------------------------------------------
# 异常卷
# ------------------------------------------------------------------------------------------
def test_abnormal_workbook_open_first_with_settlement_and_image(printed):
    wb = load_workbook(printed["out"] / "异常卷.xlsx")
    assert wb.sheetnames == ["异常卷", "处理错误", "扫描核对"]
    ws = wb["异常卷"]
    head = header(ws)
    rows = [dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 7
    assert [r["状态"] for r in rows] == ["未处理"] * 5 + ["已处理"] * 2
    assert [r["级别"] for r in rows[:5]] == ["阻断", "阻断", "警告", "警告", "警告"]
    settles = {r["code"]: r["settles"] for r in query_dicts(printed["wh"], "SELECT code, settles FROM "
                                                             "mart.abnormal_scripts WHERE exam_id = ?", [EXAM])}
    for r in rows:
        assert r["如何处理"] == settles[r["代码"]] and r["如何处理"]
    dup = next(r for r in rows if r["代码"] == "DUPLICATE_SCAN")
    assert dup["答卷图像"] == "images/chemistry/C6.jpg" and dup["姓名"] == "王五" and dup["班级"] == "1班"
    # the image cell links to the scan image under the exam folder
    j = head.index("答卷图像") + 1
    linked = [ws.cell(row=i, column=j) for i in range(2, ws.max_row + 1) if ws.cell(row=i, column=j).hyperlink]
    assert linked and all(c.hyperlink.target.startswith("file://") for c in linked)
    target = next(c.hyperlink.target for c in linked if c.value == "images/chemistry/C6.jpg")
    assert target == (printed["folder"].resolve() / "images/chemistry/C6.jpg").as_uri()
    settled = next(r for r in rows if r["代码"] == "UNKNOWN_EXAM_NO")
    assert (settled["处理动作"], settled["处理值"], settled["处理人"]) == ("assign_student", "S06", "王老师")
    errors = [dict(zip(header(wb["处理错误"]), r)) for r in wb["处理错误"].iter_rows(min_row=2, values_only=True)]
    assert len(errors) == 1 and errors[0]["异常编号"] == "MULTI_MARK:math:math.csv#4:1"
    assert "mark_absent does not settle MULTI_MARK" in errors[0]["未执行原因"]
    for w in wb.worksheets:
        assert_print_setup(w)


# ------------------------------------------------------------------------------------------
# PDFs
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("class_id,sids", [("1", ["S01", "S02", "S03"]), ("2", ["S04", "S05", "S06"])])
def test_class_score_sheet_pdf(printed, class_id, sids):
    path = printed["out"] / "成绩单" / f"{class_id}.pdf"
    reader = PdfReader(str(path))
    assert len(reader.pages) == 1
    text = pdf_text(path)
    assert f"{class_id}班成绩单" in text and "班级量化" in text and "总分分布" in text
    for sid in sids:
        assert sid in text and re.sub(r"\s+", "", NAMES[sid]) in text
    if class_id == "1":
        assert "19.5" in text and "104.5" in text and "85（B）" in text
        assert "12.83" in text and "1.03" in text  # class 1 math mean and 比均 in the summary
    else:
        assert "缺考" in text and "待定" in text and "缺科" in text
    assert "本班平均" in text and "分数段宽" in text  # the distribution chart's legend and figures


@pytest.mark.parametrize("class_id,sids", [("1", ["S01", "S02", "S03"]), ("2", ["S04", "S05", "S06"])])
def test_score_slips_pdf(printed, class_id, sids):
    path = printed["out"] / "成绩条" / f"{class_id}.pdf"
    reader = PdfReader(str(path))
    assert len(reader.pages) == 1  # three strips fit one page
    text = pdf_text(path)
    assert text.count("成绩条") >= 3
    for sid in sids:
        assert f"学号{sid}" in text and re.sub(r"\s+", "", NAMES[sid]) in text
    if class_id == "1":
        assert "原始分19.5928.5" in text and "成绩19.585（B）104.5" in text
    content = b"".join(p.get_contents().get_data() for p in reader.pages)
    assert len(re.findall(rb"\[[\d.]+ [\d.]+\] ?[\d.]+ d", content)) >= 3  # dashed cut lines, one per strip


def _fmt(v) -> str:
    r = round(float(v), 1)
    return str(int(r)) if r.is_integer() else f"{r:.1f}"


def test_pdf_text_matches_the_warehouse(printed):
    """Every student of mart.totals is on their class's 成绩单 in class-rank order with their name and
    total, and on their 成绩条 with each ok subject's raw score: read back from the PDFs' text."""
    totals = query_dicts(printed["wh"], "SELECT t.student_id, s.name, t.class_id, t.status, t.total, t.class_rank "
                                        "FROM mart.totals t JOIN mart.students s USING (exam_id, student_id) "
                                        "WHERE exam_id = ? ORDER BY t.class_rank NULLS LAST, t.student_id", [EXAM])
    scores = query_dicts(printed["wh"], "SELECT student_id, subject, raw_score FROM mart.subject_scores "
                                        "WHERE exam_id = ? AND status = 'ok'", [EXAM])
    assert totals and scores
    for class_id in {t["class_id"] for t in totals}:
        sheet = pdf_text(printed["out"] / "成绩单" / f"{class_id}.pdf")
        slips = pdf_text(printed["out"] / "成绩条" / f"{class_id}.pdf")
        mine = [t for t in totals if t["class_id"] == class_id]
        ok = [t for t in mine if t["status"] == "ok"]
        positions = [sheet.index(t["student_id"] + re.sub(r"\s+", "", t["name"])) for t in ok]
        assert positions == sorted(positions)  # class-rank order
        for t in ok:
            row = sheet[sheet.index(t["student_id"]):]
            assert _fmt(t["total"]) in row[:80], (t, row[:80])
        for t in mine:
            strip = slips[slips.index(f"学号{t['student_id']}"):]
            strip = strip[:strip.find("成绩条", 10) if "成绩条" in strip[10:] else None]
            for sc in (x for x in scores if x["student_id"] == t["student_id"]):
                assert _fmt(sc["raw_score"]) in strip, (t["student_id"], sc)


def test_class_pdfs_typeset_by_spawned_processes_match_one_process(printed, press, tmp_path):
    """Worker processes started with the spawn method (as on Windows and macOS) typeset, this one
    writes: the same files, in the same order, page by page."""
    import multiprocessing as mp

    from examflow import warehouse
    from examflow.printing.class_pdfs import PDF_TABLES, write_pdfs
    from examflow.printing.data import load_exam

    assert "spawn" in mp.get_all_start_methods()
    with warehouse.connect(printed["wh"], read_only=True) as con:
        data = load_exam(con, EXAM, PDF_TABLES)
    one = write_pdfs(data, tmp_path / "one", press, workers=1)
    two = write_pdfs(data, tmp_path / "two", press, workers=2)
    assert [(f.path.relative_to(tmp_path / "one"), f.kind, f.rows) for f in one] == \
        [(f.path.relative_to(tmp_path / "two"), f.kind, f.rows) for f in two]
    for a, b in zip(one, two):
        assert b.path.stat().st_mode & 0o777 == 0o600
        assert [p.get_contents().get_data() for p in PdfReader(str(a.path)).pages] == \
            [p.get_contents().get_data() for p in PdfReader(str(b.path)).pages]


def test_no_fork_anywhere():
    """Worker pools are started with spawn; nothing calls os.fork or asks for the fork method."""
    root = Path(__file__).parents[1]
    for path in [*root.glob("examflow/**/*.py"), *root.glob("assets/*.py"), *root.glob("pipelines/*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "os.fork" not in text and '"fork"' not in text, path


def test_default_workers(monkeypatch):
    from examflow.printing.typeset import MAX_WORKERS, default_workers

    monkeypatch.setenv("EXAMFLOW_PRINT_WORKERS", "3")
    assert default_workers(2) == 2 and default_workers(100) == 3
    monkeypatch.setenv("EXAMFLOW_PRINT_WORKERS", "1")
    assert default_workers(100) == 1
    monkeypatch.delenv("EXAMFLOW_PRINT_WORKERS")
    assert default_workers(2) == 1  # too few classes to share
    assert 1 <= default_workers(1000) <= MAX_WORKERS


# ------------------------------------------------------------------------------------------
# audit
# ------------------------------------------------------------------------------------------
def test_one_audit_row_per_printout_with_its_sha256(printed):
    from examflow.printing import sha256_file

    rows = query_dicts(printed["wh"], 'SELECT * FROM audit.extracts WHERE template LIKE \'printouts/%\' ORDER BY "at"')
    files = sorted(p for p in printed["out"].rglob("*") if p.is_file())
    assert sorted(Path(r["file"]) for r in rows) == files  # one row per file, no more
    for r in rows:
        assert r["who"] == "examflow" and r["exam_id"] == EXAM
        assert r["sha256"] == sha256_file(r["file"])
        params = json.loads(r["params"])
        assert params["exam_id"] == EXAM
        if r["file"].endswith(".pdf"):
            assert params["class_id"] == Path(r["file"]).stem
    kinds = {r["template"] for r in rows}
    assert kinds == {"printouts/grade_scores.xlsx", "printouts/class_quant.xlsx", "printouts/teacher_quant.xlsx",
                     "printouts/item_analysis.xlsx", "printouts/abnormal_scripts.xlsx", "printouts/class_report.pdf",
                     "printouts/score_slips.pdf"}
    grade = next(r for r in rows if r["template"] == "printouts/grade_scores.xlsx")
    assert grade["rows"] == 12  # 6 on the grade sheet, 3 + 3 on the class sheets


def test_printing_again_appends_audit_rows(printed, tmp_path):
    from examflow.printing.exam import print_exam

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(printed["wh"], wh)
    before = query(wh, "SELECT * FROM audit.extracts ORDER BY ALL")
    runs = print_exam(wh, EXAM, tmp_path / "out")
    after = query(wh, "SELECT * FROM audit.extracts ORDER BY ALL")
    assert len(after) == len(before) + sum(len(r.files) for r in runs) == len(before) + 9
    assert set(before) <= set(after)  # nothing rewritten


# ------------------------------------------------------------------------------------------
# robustness
# ------------------------------------------------------------------------------------------
def test_missing_quantification_tables_skip_sheets_with_a_note(printed, press, tmp_path):
    from examflow import warehouse
    from examflow.printing.class_pdfs import write_pdfs
    from examflow.printing.data import load_exam
    from examflow.printing.workbooks import WORKBOOK_TABLES, Notes, write_workbooks

    with warehouse.connect(printed["wh"], read_only=True) as con:
        data = load_exam(con, EXAM, WORKBOOK_TABLES)
    for t in ("class_quant", "line_analysis", "teacher_quant", "quant_formula", "item_options", "knowledge"):
        data.tables[t] = None
    notes = Notes()
    files = write_workbooks(data, tmp_path, notes)
    assert len(files) == 5 and any("mart.teacher_quant" in n for n in notes.items)
    wb = load_workbook(tmp_path / "班级量化表.xlsx")
    assert wb.sheetnames == ["名次段", "划线", "临界生", "说明"]
    note = [r[0] for r in wb["说明"].iter_rows(min_row=2, values_only=True)]
    assert any("mart.class_quant" in n for n in note) and any("mart.line_analysis" in n for n in note)
    teacher = load_workbook(tmp_path / "教师量化表.xlsx")
    assert teacher.sheetnames == ["阅卷质量", "说明"]
    assert "选项分布" not in load_workbook(tmp_path / "小题分析.xlsx").sheetnames
    pdfs = write_pdfs(data, tmp_path, press)  # class_quant missing: the score sheet says so
    assert len(pdfs) == 4 and "mart.class_quant" in pdf_text(tmp_path / "成绩单" / "1.pdf")


def _joint_exam_data():
    import polars as pl

    from examflow.printing.data import ExamData, Subject

    students = pl.DataFrame({
        "student_id": ["A1", "A2", "B1"], "name": ["欧阳娜娜", "李华", "𪚥王"],
        "class_id": ["一中:3", "一中:3", "二中/3"], "track": ["physics"] * 3, "exam_no": ["01", "02", "03"]})
    scores = pl.DataFrame({
        "student_id": ["A1", "A2", "B1"], "subject": ["math"] * 3, "class_id": ["一中:3", "一中:3", "二中/3"],
        "status": ["ok", "void", "ok"], "raw_score": [120.5, None, 99.0], "converted_score": [None, None, None],
        "band": [None, None, None], "grade_rank": [1, None, 2], "class_rank": [1, None, 1],
        "rank_change": [None, None, None]})
    totals = pl.DataFrame({
        "student_id": ["A1", "A2", "B1"], "class_id": ["一中:3", "一中:3", "二中/3"], "track": ["physics"] * 3,
        "status": ["ok", "incomplete", "ok"], "total": [120.5, None, 99.0], "raw_total": [120.5, None, 99.0],
        "grade_rank": [1, None, 2], "class_rank": [1, None, 1], "rank_change": [None, None, None]})
    return ExamData(exam_id="joint", name="联考", subjects=[Subject("math", "数学", 150, "core", 0)],
                    tables={"students": students, "subject_scores": scores, "totals": totals})


@pytest.mark.parametrize("workers", [1, 2])
def test_joint_exam_class_ids_make_safe_file_names(press, tmp_path, workers):
    from examflow.printing.class_pdfs import write_pdfs

    data = _joint_exam_data()
    files = write_pdfs(data, tmp_path, press, workers=workers)
    assert sorted(p.name for p in (tmp_path / "成绩单").iterdir()) == ["一中_3.pdf", "二中_3.pdf"]
    assert [f.path.name for f in files] == ["一中_3.pdf", "一中_3.pdf", "二中_3.pdf", "二中_3.pdf"]
    text = pdf_text(tmp_path / "成绩条" / "一中_3.pdf")
    assert "一中3班" in text and "欧阳娜娜" in text and "作废" in text and "120.5" in text
    assert "𪚥王" in pdf_text(tmp_path / "成绩条" / "二中_3.pdf")  # a rare character, from the fallback face
    assert (tmp_path / "成绩单" / "一中_3.pdf").stat().st_mode & 0o777 == 0o600


def test_stale_class_pdfs_are_removed(press, tmp_path):
    from examflow.printing.class_pdfs import write_pdfs

    (tmp_path / "成绩单").mkdir()
    (tmp_path / "成绩单" / "99.pdf").write_bytes(b"%PDF old")
    (tmp_path / "成绩单" / "notes.txt").write_text("kept")
    write_pdfs(_joint_exam_data(), tmp_path, press)
    assert not (tmp_path / "成绩单" / "99.pdf").exists() and (tmp_path / "成绩单" / "notes.txt").exists()


# ------------------------------------------------------------------------------------------
# Dagster
# ------------------------------------------------------------------------------------------
def test_print_assets_are_defined_and_materialise_alone(printed, tmp_path):
    import dagster as dg

    from assets.print import printout_workbooks
    from pipelines.definitions import defs
    from pipelines.resources import ExamFoldersResource, WarehouseResource

    graph = defs.resolve_asset_graph()
    for key in (dg.AssetKey(["printouts", "workbooks"]), dg.AssetKey(["printouts", "pdfs"])):
        node = graph.get(key)
        assert node.group_name == "print" and node.partitions_def.name == "exam"
        assert dg.AssetKey(["mart", "totals"]) in node.parent_keys
    assert dg.AssetKey(["mart", "teacher_quant"]) in graph.get(dg.AssetKey(["printouts", "workbooks"])).parent_keys

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(printed["wh"], wh)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("exam", [EXAM])
    result = dg.materialize([printout_workbooks], instance=instance, partition_key=EXAM, resources={
        "warehouse": WarehouseResource(path=str(wh)),
        "exam_folders": ExamFoldersResource(exams_dir=str(tmp_path / "exams"), output_dir=str(tmp_path / "out"))})
    assert result.success
    meta = result.asset_materializations_for_node("printouts__workbooks")[0].metadata
    assert meta["files written"].value == 5 and meta["rows"].value > 0 and meta["seconds"].value >= 0
    assert sorted(p.name for p in (tmp_path / "out" / EXAM).iterdir()) == sorted(WORKBOOKS)
