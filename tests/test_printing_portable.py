"""Printing on a school's own machine (issue 19): no Chinese font at all, a school's templates, the
workbooks in a real spreadsheet program (headless LibreOffice), public APIs only."""
from __future__ import annotations

import ast
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import copy_fixture, query, query_dicts, run

ROOT = Path(__file__).parents[1]
EXAM = "tiny-2026-11"
WORKBOOKS = ["成绩总表.xlsx", "班级量化表.xlsx", "教师量化表.xlsx", "小题分析.xlsx", "异常卷.xlsx"]
EXAMFLOW = Path(sys.executable).with_name("examflow")


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(str(path)).pages).replace("\x00", ""))


# ------------------------------------------------------------------------------------------
# no CJK font reachable
# ------------------------------------------------------------------------------------------
def _without_fonts(tmp_path: Path) -> tuple[list[str], dict]:
    """A command prefix that hides every system font (an empty folder mounted over /usr/share/fonts
    in a private mount namespace; root only) and an environment without EXAMFLOW_* settings and
    with an empty home (no ~/.fonts)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to hide the system fonts")
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind {empty} /usr/share/fonts && ls /usr/share/fonts"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip():
        pytest.skip(f"cannot hide /usr/share/fonts here: {probe.stderr.strip()}")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMFLOW_")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local/share"))
    return ["unshare", "-m", "sh", "-c", f'mount --bind {empty} /usr/share/fonts && exec "$@"', "sh"], env


def test_without_any_cjk_font_the_data_and_workbooks_are_written(tmp_path):
    hide, env = _without_fonts(tmp_path)
    folder = copy_fixture("tiny", tmp_path / "exams")
    wh, out = tmp_path / "wh" / "warehouse.duckdb", tmp_path / "out"
    done = subprocess.run([*hide, str(EXAMFLOW), "run", str(folder), "--warehouse", str(wh), "--output", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    # the documented exit code: not 2 (contract) nor 1 (crash)
    from examflow.cli import EXIT_NO_FONT

    assert done.returncode == EXIT_NO_FONT == 4, done.stderr[-3000:]
    # one line that says what is missing and the two fixes
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("examflow:")]
    assert len(lines) == 1, done.stderr[-3000:]
    assert "no Chinese font" in lines[0] and "apt-get install fonts-noto-cjk" in lines[0] and "EXAMFLOW_FONT" in lines[0]
    # the marts, the analysts' copy and every workbook are written
    assert query(wh, "SELECT count(*) FROM mart.totals WHERE exam_id = ?", [EXAM])[0][0] == 6
    assert query(wh, "SELECT count(*) FROM mart.teacher_quant WHERE exam_id = ?", [EXAM])[0][0] > 0
    assert wh.with_name("warehouse.analyst.duckdb").is_file()
    # nothing half-written: the workbooks only, no PDF folder, no temporary file
    assert sorted(p.name for p in (out / EXAM).rglob("*")) == sorted(WORKBOOKS)
    # the audit says so, and `examflow status` shows it
    failed = query_dicts(wh, "SELECT * FROM audit.extracts WHERE outcome = 'failed'")
    assert len(failed) == 1 and failed[0]["template"] == "printouts/pdfs" and "EXAMFLOW_FONT" in failed[0]["reason"]
    status = subprocess.run([str(EXAMFLOW), "status", EXAM, "--warehouse", str(wh)], capture_output=True, text=True,
                            env=env, timeout=120)
    assert status.returncode == 0 and "the PDFs were not written" in status.stdout and "fonts-noto-cjk" in status.stdout
    # with a font (the machine's), the next run prints the PDFs and status no longer complains
    assert run(folder, wh, printouts=True) == EXAM
    assert (out.parent / "wh" / "output" / EXAM / "成绩单" / "1.pdf").is_file()
    from examflow import warehouse
    from examflow.status import pdf_failure

    with warehouse.connect(wh, read_only=True) as con:
        assert pdf_failure(con, EXAM) is None


def test_the_dagster_run_shows_why_the_pdfs_failed(tmp_path, monkeypatch):
    """In Dagster the PDF step fails with the one-line fix as its description (here: EXAMFLOW_FONT names a
    file that is not a font); the workbooks step is not affected."""
    import dagster as dg

    from assets.print import printout_pdfs, printout_workbooks
    from pipelines.resources import ExamFoldersResource, WarehouseResource

    folder = copy_fixture("tiny", tmp_path / "exams")
    wh = tmp_path / "warehouse.duckdb"
    run(folder, wh)
    monkeypatch.setenv("EXAMFLOW_FONT", str(folder / "exam.yaml"))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("exam", [EXAM])
    result = dg.materialize([printout_workbooks, printout_pdfs], instance=instance, partition_key=EXAM,
                            raise_on_error=False, resources={
                                "warehouse": WarehouseResource(path=str(wh)),
                                "exam_folders": ExamFoldersResource(exams_dir=str(tmp_path / "exams"),
                                                                    output_dir=str(tmp_path / "out"))})
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == ["printouts__pdfs"]
    description = failures[0].step_failure_data.user_failure_data.description
    assert "EXAMFLOW_FONT=" in description and "is not a font file" in description
    assert sorted(p.name for p in (tmp_path / "out" / EXAM).iterdir()) == sorted(WORKBOOKS)


# ------------------------------------------------------------------------------------------
# a school's templates
# ------------------------------------------------------------------------------------------
def test_a_school_overrides_the_score_sheet_template(tmp_path):
    """README's worked example (docs/examples/school-templates): school.yaml names a folder whose
    class_report.typ puts the school's badge and name above the package's body."""
    exams = tmp_path / "exams"
    folder = copy_fixture("tiny", exams)
    shutil.copytree(ROOT / "docs" / "examples" / "school-templates", exams / "templates")
    (exams / "school.yaml").write_text("printing:\n  templates: templates\n", encoding="utf-8")
    wh = tmp_path / "wh" / "warehouse.duckdb"
    run(folder, wh, printouts=True)
    out = wh.parent / "output" / EXAM
    sheet = out / "成绩单" / "1.pdf"
    text = pdf_text(sheet)
    assert "示例市第一中学" in text and "1班成绩单" in text and "S01张三" in text and "104.5" in text
    content = PdfReader(str(sheet)).pages[0].get_contents().get_data()
    assert re.search(rb"0\.588\d* 0\.078\d* 0\.117\d* scn", content)  # the badge, filled in its red (#96141e)
    assert "示例市第一中学" not in pdf_text(out / "成绩条" / "1.pdf")  # the slips keep the package's template


def test_a_broken_school_template_names_the_file(tmp_path, press):
    from examflow.printing.typeset import TemplateError, Typesetter
    from examflow.printing.fonts import find_fonts

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "score_slips.typ").write_text('#import "common.typ": *\n#data.nope\n', encoding="utf-8")
    with Typesetter(find_fonts(), mine) as setter, pytest.raises(TemplateError, match=r"score_slips\.typ"):
        setter.render("score_slips", {"title": "x"})


# ------------------------------------------------------------------------------------------
# the workbooks in a real spreadsheet program
# ------------------------------------------------------------------------------------------
def soffice_sheets(xlsx: Path, work: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook as headless LibreOffice reads it, converted to CSV (one file per
    sheet), by sheet name."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.skip("LibreOffice (libreoffice-calc) is not installed: ./dev setup installs it")
    outdir = work / xlsx.stem
    outdir.mkdir(parents=True)
    profile = (work / "lo-profile").resolve().as_uri()
    # 44,34,76: comma, double quote, UTF-8; the last field -1: every sheet, each to <name>-<sheet>.csv
    done = subprocess.run([exe, "--headless", f"-env:UserInstallation={profile}", "--convert-to",
                           "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                           "--outdir", str(outdir), str(xlsx)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    sheets = {}
    for f in outdir.glob("*.csv"):
        name = f.stem[len(xlsx.stem) + 1:]
        sheets[name] = list(csv.reader(f.read_text(encoding="utf-8").splitlines()))
    assert sheets, done.stdout + done.stderr
    return sheets


@pytest.fixture(scope="module")
def exam_printed(tmp_path_factory):
    base = tmp_path_factory.mktemp("lo")
    folder = copy_fixture("tiny", base / "exams")
    roster = folder / "roster.csv"
    roster.write_text(roster.read_text(encoding="utf-8-sig").replace("李四", '=HYPERLINK("x")'), encoding="utf-8")
    wh = base / "wh" / "warehouse.duckdb"
    run(folder, wh, printouts=True)
    return wh, wh.parent / "output" / EXAM


def test_exam_workbooks_round_trip_through_libreoffice(exam_printed, tmp_path):
    wh, out = exam_printed
    books = {name: soffice_sheets(out / name, tmp_path) for name in WORKBOOKS}
    # 成绩总表: every student of mart.totals with the total the warehouse holds; the formula-like
    # name is text, not a formula LibreOffice evaluated
    grade = books["成绩总表.xlsx"]["年级"]
    head = grade[0]
    assert head[:5] == ["学号", "姓名", "班级", "考号", "类别"] and "总分" in head
    rows = {r[0]: dict(zip(head, r)) for r in grade[1:] if r and r[0]}
    for t in query_dicts(wh, "SELECT student_id, status, total FROM mart.totals WHERE exam_id = ?", [EXAM]):
        if t["status"] == "ok":
            assert float(rows[t["student_id"]]["总分"]) == pytest.approx(float(t["total"]))
    assert rows["S02"]["姓名"] == '=HYPERLINK("x")'
    assert {"1班", "2班"} <= set(books["成绩总表.xlsx"])
    # 班级量化表: the class means of mart.class_quant (a score: one decimal)
    total = books["班级量化表.xlsx"]["总分"]
    assert "平均分" in total[0]
    means = {float(r[total[0].index("平均分")]) for r in total[1:] if r and r[total[0].index("平均分")]}
    expected = {round(float(m), 1) for (m,) in query(wh, "SELECT mean FROM mart.class_quant WHERE exam_id = ? "
                                                          "AND subject = 'total' AND mean IS NOT NULL", [EXAM])}
    assert means == expected
    # 教师量化表, 小题分析, 异常卷: their sheets and keys
    assert {"教师量化", "阅卷质量"} <= set(books["教师量化表.xlsx"])
    items = books["小题分析.xlsx"]["小题分析"]
    n_items = query(wh, "SELECT count(*) FROM mart.item_analysis WHERE exam_id = ?", [EXAM])[0][0]
    assert len([r for r in items[1:] if any(r)]) == n_items
    abnormal = books["异常卷.xlsx"]["异常卷"]
    ids = {r[abnormal[0].index("异常编号")] for r in abnormal[1:] if r}
    assert ids == {a for (a,) in query(wh, "SELECT abnormal_id FROM mart.abnormal_scripts WHERE exam_id = ?", [EXAM])}


def test_arrangement_and_extract_workbooks_round_trip_through_libreoffice(tmp_path):
    """The 考务 workbooks (a small arrangement) and a teacher's extract, read back by LibreOffice."""
    import polars as pl

    from examflow.arrange import arrange, write_printouts
    from examflow.printing.excel import Column, write_workbook

    roster = pl.DataFrame({"student_id": [f"S{i:02d}" for i in range(1, 9)],
                           "name": ["张三", "李四", '=HYPERLINK("x")', "赵六", "钱七", "孙八", "周九", "吴十"],
                           "class_id": ["1"] * 4 + ["2"] * 4, "track": ["physics"] * 8,
                           "electives": [["physics", "chemistry", "biology"]] * 8, "exam_no": [None] * 8})
    subjects = [{"code": "chinese", "name": "语文", "role": "core"}, {"code": "math", "name": "数学", "role": "core"}]
    rooms = pl.DataFrame({"room": ["01", "02"], "location": ["主楼101", "主楼102"], "capacity": [6, 6]})
    teachers = pl.DataFrame({"teacher_id": ["T1", "T2", "T3", "T4"], "name": ["甲", "乙", "丙", "丁"],
                             "class_id": ["1", "1", "2", "2"], "subject": ["chinese", "math", "chinese", "math"],
                             "role": ["任课"] * 4})
    arr = arrange(roster, subjects, rooms, teachers, {}, "2026-11-12")
    files = write_printouts(arr, tmp_path / "exam", exam_name="期中考试")
    door = soffice_sheets(next(f.path for f in files if f.kind == "door_lists.xlsx"), tmp_path)
    first = door["第1场"]
    assert first[0] == ["考场", "地点", "座位号", "考号", "姓名", "班级", "科目"]
    assert sorted(r[4] for r in first[1:] if r) == sorted(roster["name"].to_list())
    assert {r[0] for r in first[1:] if r} <= {"第01考场", "第02考场"}
    timetable = soffice_sheets(next(f.path for f in files if f.kind == "timetable.xlsx"), tmp_path)["考试时间表"]
    assert [r[5] for r in timetable[1:] if r] == ["语文", "数学"]
    # an extract-style workbook (examflow.printing.excel, as extracts write them)
    done = write_workbook(tmp_path / "x.xlsx", [("班级成绩", [{"a": "=1+1", "b": 3.5}],
                                                 [Column("a", "文本"), Column("b", "分数", "score")])])
    rows = soffice_sheets(done.path, tmp_path / "x")["班级成绩"]
    assert rows[:2] == [["文本", "分数"], ["=1+1", "3.5"]]


# ------------------------------------------------------------------------------------------
# public APIs only
# ------------------------------------------------------------------------------------------
def _third_party(module: str) -> bool:
    top = module.split(".")[0]
    return top not in {"examflow", "assets", "pipelines", "tests", "__future__"} and top not in sys.stdlib_module_names


def test_no_private_attribute_of_a_third_party_package():
    """No `_`-prefixed name of a third-party package (typst, openpyxl, polars, dagster, …) is imported
    in examflow/, no `_`-prefixed attribute is read on anything but the code's own `self` / `cls`, and
    no library function is rebuilt from its code (`__code__`, `__globals__`)."""
    offences = []
    for path in sorted((ROOT / "examflow").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if _third_party(a.name) and any(p.startswith("_") for p in a.name.split(".")):
                        offences.append(f"{path.name}:{node.lineno} import {a.name}")
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _third_party(node.module):
                if any(p.startswith("_") for p in node.module.split(".")):
                    offences.append(f"{path.name}:{node.lineno} from {node.module}")
                for a in node.names:
                    if a.name.startswith("_"):
                        offences.append(f"{path.name}:{node.lineno} import {a.name} from {node.module}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                if node.attr in ("__code__", "__globals__", "__closure__", "__defaults__"):
                    offences.append(f"{path.name}:{node.lineno} .{node.attr}")
                elif not node.attr.startswith("__") and not (isinstance(node.value, ast.Name)
                                                             and node.value.id in ("self", "cls")):
                    # examflow reads no one's private attributes but its own objects' (self / cls)
                    offences.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert offences == []
