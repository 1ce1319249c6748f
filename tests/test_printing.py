"""The shared printing layer (examflow.printing: Excel, fonts, typst templates, owner-only files) and
the 考务 printouts of an arrangement."""
from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import sys
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from examflow.printing import (ensure_owner_only_dir, owner_only_file, owner_only_link, safe_filename, sha256_file,
                               write_owner_only)
from examflow.printing.excel import (Column, WorkbookWriter, display_width, sheet_title, workbook_batch,
                                     write_workbook)
from examflow.printing.fonts import FontMissing, find_fonts


def _load_generator():
    """make_grade from test_arrange.py, loaded by path (works whatever pytest's import mode)."""
    name = "_examflow_test_arrange_gen"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_arrange.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def pdf_text(path: Path, pages: range | None = None) -> str:
    """Text of some pages (NULs dropped, should a reader put one before CJK characters)."""
    reader = PdfReader(str(path))
    idx = pages if pages is not None else range(len(reader.pages))
    return "".join((reader.pages[i].extract_text() or "") for i in idx if i < len(reader.pages)).replace("\x00", "")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------------------------------
# owner-only files
# ------------------------------------------------------------------------------------------
def test_owner_only_files(tmp_path):
    old = os.umask(0o022)
    try:
        d = ensure_owner_only_dir(tmp_path / "a" / "b")
        assert (d.stat().st_mode & 0o777) == 0o700 and ((tmp_path / "a").stat().st_mode & 0o777) == 0o700
        p = write_owner_only(d / "x.txt", "内容")
        assert (p.stat().st_mode & 0o777) == 0o600 and p.read_text(encoding="utf-8") == "内容"
        # an existing world-readable file is replaced by an owner-only one
        q = tmp_path / "old.txt"
        q.write_text("x")
        os.chmod(q, 0o644)
        write_owner_only(q, b"y")
        assert (q.stat().st_mode & 0o777) == 0o600 and q.read_bytes() == b"y"
        # a failed write leaves neither a half file nor a temporary one
        with pytest.raises(RuntimeError):
            with owner_only_file(d / "broken.bin") as fh:
                fh.write(b"half")
                raise RuntimeError("boom")
        assert not (d / "broken.bin").exists() and list(d.iterdir()) == [p]
    finally:
        os.umask(old)
    assert safe_filename("高三(3)班/理科") == "高三(3)班_理科"


@pytest.mark.skipif(os.name != "posix", reason="hard links and modes as POSIX has them")
def test_owner_only_link(tmp_path):
    """A printout put at a second path is the same file (a hard link, 0o600), swapped in atomically;
    writing the source again replaces it, so the second path keeps the old bytes until linked again;
    a source that is not owner-only is copied, not shared."""
    source = write_owner_only(tmp_path / "exam" / "3.pdf", b"one")
    target = tmp_path / "schools" / "A" / "3.pdf"
    assert owner_only_link(source, target) is True
    assert os.path.samefile(source, target) and target.read_bytes() == b"one"
    assert (target.stat().st_mode & 0o777) == 0o600 and (target.parent.stat().st_mode & 0o777) == 0o700
    write_owner_only(source, b"two")
    assert target.read_bytes() == b"one"  # not rewritten in place through the other path
    assert owner_only_link(source, target) is True and target.read_bytes() == b"two"
    assert owner_only_link(source, target) is True  # already the same file: nothing to do
    assert [p.name for p in target.parent.iterdir()] == ["3.pdf"]  # no temporary file left
    shared = tmp_path / "shared.pdf"
    shared.write_bytes(b"three")
    os.chmod(shared, 0o644)
    assert owner_only_link(shared, target) is False
    assert target.read_bytes() == b"three" and not os.path.samefile(shared, target)
    assert (target.stat().st_mode & 0o777) == 0o600


# ------------------------------------------------------------------------------------------
# Excel
# ------------------------------------------------------------------------------------------
COLUMNS = [
    Column("student_id", "学号", "id"),
    Column("name", "姓名"),
    Column("class_id", "班级"),
    Column("total", "总分", "score"),
    Column("grade_rank", "年级名次", "rank"),
    Column("pass_rate", "及格率", "rate"),
    Column("note", "备注"),
]


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "student_id": ["007", "008", "009", "010", "011"],
        "name": ['=HYPERLINK("x")', "+86123", "-1", "@SUM(A1)", "欧阳娜娜"],
        "class_id": ["3", "3", "4", "4", "4"],
        "total": [612.25, 598.0, None, 577.55, 540.04],
        "grade_rank": [1, 2, None, 3, 4],
        "pass_rate": [0.8125, 0.5, None, 1.0, 0.0],
        "note": [None, "缺考", "这是一段很长的中文备注用来测试列宽", "ok", None],
    })


def test_excel_table(tmp_path):
    path = tmp_path / "成绩.xlsx"
    df = _frame()
    with WorkbookWriter(path) as wb:
        wb.add_table("全年级", df, COLUMNS, title="高三期中考试 成绩总表", page_breaks_before=[2])
        wb.add_table("3班", df.filter(pl.col("class_id") == "3"), COLUMNS)
    assert wb.printed is not None and wb.printed.rows == 7 and len(wb.printed.sha256) == 64
    assert (path.stat().st_mode & 0o777) == 0o600
    book = load_workbook(path)
    assert book.sheetnames == ["全年级", "3班"]
    ws = book["全年级"]
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G6"
    assert ws.print_title_rows == "$1:$1"
    assert str(ws.page_setup.paperSize) == "9"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert "成绩总表" in ws.oddHeader.center.text
    assert [b.id for b in ws.row_breaks.brk] == [3]
    # formula-like text stays text
    for row in range(2, 6):
        cell = ws.cell(row=row, column=2)
        assert cell.data_type == "s", (cell.value, cell.data_type)
    assert ws["B2"].value == '=HYPERLINK("x")' and ws["B3"].value == "+86123" and ws["B4"].value == "-1"
    assert ws["B5"].value == "@SUM(A1)"
    # number formats per kind
    assert ws["A2"].value == "007" and ws["A2"].number_format == "@"
    assert ws["D2"].value == 612.2 or ws["D2"].value == 612.3  # one decimal at most
    assert ws["D3"].value == 598 and ws["D3"].number_format == "General"
    assert ws["E2"].value == 1 and ws["E2"].number_format == "0"
    assert ws["F2"].value == pytest.approx(0.8125) and ws["F2"].number_format == "0.0%"
    assert ws["D4"].value is None and ws["G3"].value == "缺考"
    # widths fit Chinese text: CJK counts double
    assert ws.column_dimensions["G"].width >= display_width("这是一段很长的中文备注用来测试列宽")
    assert ws.column_dimensions["G"].width > ws.column_dimensions["E"].width


def test_excel_helpers(tmp_path):
    assert display_width("abc") == 3 and display_width("张三") == 4 and display_width("（３）") == 6
    assert sheet_title("高三[1]班:物理/化学") == "高三_1_班_物理_化学"
    assert sheet_title("x" * 40) == "x" * 31
    assert sheet_title("第1场", ["第1场"]) == "第1场(2)"
    pf = write_workbook(tmp_path / "t.xlsx", {"表": pl.DataFrame({"a": [1], "b": ["=1+1"]})})
    ws = load_workbook(pf.path)["表"]
    assert ws["B2"].value == "=1+1" and ws["B2"].data_type == "s"


def test_excel_streams_large_sheets(tmp_path):
    n = 20_000
    df = pl.DataFrame({"student_id": [f"{i:06d}" for i in range(n)], "total": [i / 7 for i in range(n)]})
    with WorkbookWriter(tmp_path / "big.xlsx") as wb:
        wb.add_table("大表", df, [Column("student_id", "学号", "id"), Column("total", "总分", "score")])
    ws = load_workbook(tmp_path / "big.xlsx", read_only=True)["大表"]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == n + 1 and rows[1] == ("000000", 0) and rows[-1][0] == f"{n - 1:06d}"


def test_excel_sheets_of_one_frame_links_and_text_below(tmp_path):
    """add_sheets: one sheet per index of a column, in frame order; `Column.otherwise` prints a
    status where the score is missing; links; text beneath a table (not filtered); dates and
    times keep their formats."""
    frame = pl.DataFrame({"sid": ["1", "2", "3"], "score": [88.25, None, 70.0], "status": [None, "缺考", None],
                          "_sheet": [0, 1, 1]})
    cols = [Column("sid", "学号", "id"), Column("score", "成绩", "score", otherwise="status")]
    with WorkbookWriter(tmp_path / "b.xlsx") as wb:
        wb.add_sheets(frame, cols, sheet="_sheet", names=["甲", "乙"], titles=["标题甲", "标题乙"])
        wb.add_table("链接", [{"img": "a.jpg", "when": dt.datetime(2026, 11, 12, 8, 0), "day": dt.date(2026, 11, 12),
                              "at": dt.time(8, 30)}],
                     [Column("img", "图像"), Column("when", "时间", "datetime"), Column("day", "日期", "date"),
                      Column("at", "开始", "time")],
                     links={"img": ["file:///exams/a.jpg"]}, below=["说明", "=1+1"])
    assert wb.printed is not None and wb.printed.rows == 4
    book = load_workbook(tmp_path / "b.xlsx")
    assert book.sheetnames == ["甲", "乙", "链接"]
    assert list(book["甲"].iter_rows(min_row=2, values_only=True)) == [("1", 88.2)]
    assert list(book["乙"].iter_rows(min_row=2, values_only=True)) == [("2", "缺考"), ("3", 70)]
    assert book["乙"].oddHeader.center.text == "标题乙" and book["乙"].auto_filter.ref == "A1:B3"
    ws = book["链接"]
    assert ws["A2"].value == "a.jpg" and ws["A2"].hyperlink.target == "file:///exams/a.jpg"
    assert ws["B2"].value == dt.datetime(2026, 11, 12, 8, 0) and ws["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["C2"].value == dt.datetime(2026, 11, 12) and ws["C2"].number_format == "yyyy-mm-dd"
    assert ws["D2"].value == dt.time(8, 30) and ws["D2"].number_format == "hh:mm"
    assert ws.auto_filter.ref == "A1:D2" and ws["A3"].value is None and ws["A4"].value == "说明"
    assert ws["A5"].value == "=1+1" and ws["A5"].data_type == "s" and ws["A5"].quotePrefix


# ------------------------------------------------------------------------------------------
# PDF
# ------------------------------------------------------------------------------------------
def _pdf_fonts(path: Path) -> set[str]:
    fonts = set()
    for page in PdfReader(str(path)).pages:
        for f in page["/Resources"]["/Font"].values():
            fonts.add(str(f.get_object()["/BaseFont"]))
    return fonts


def _workbooks(out: Path) -> None:
    """Three workbooks of alike tables (different rows), one with a table of its own and a link,
    one with no table."""
    cols = [Column("name", "姓名"), Column("score", "总分", "score", otherwise="status"), Column("n", "人数", "int")]
    for i, rows in enumerate([[{"name": "张三", "score": 95.5, "n": 3}, {"name": "=李四", "status": "缺考", "n": 2.0}],
                              [{"name": " 王五", "score": 88, "n": None}], []]):
        with WorkbookWriter(out / f"{i}.xlsx", kind="book") as wb:
            if i == 2:
                continue
            wb.add_table("表", rows, cols, title=f"标题{i}", below=["注：同一行"])
            n = 3 * i + 2
            frame = pl.DataFrame({"id": [f"{i}{j:03d}" for j in range(n)], "_sheet": [min(j, 1) for j in range(n)],
                                  "v": [j / 3 if j % 2 else None for j in range(n)]})
            wb.add_sheets(frame, [Column("id", "学号", "id"), Column("v", "值", "decimal")], sheet="_sheet",
                          names=["年级", f"{i}班"], titles=["年级", None])
            if i == 1:
                wb.add_table("链接", [{"a": "图"}], [Column("a", "扫描")], links={"a": ["https://example.org/1"]})
            wb.add_table("表2", rows, cols, landscape=True)


def test_workbook_batch_writes_the_files_each_would_be_alone(tmp_path):
    """Workbooks opened in a batch are written when it ends, alike tables of several workbooks in one
    pass: every part of every file is what writing each workbook alone gives (the creation time
    aside); files owner-only, `printed` in the order opened; an exception in the block writes none."""
    import zipfile

    _workbooks(tmp_path / "alone")
    with workbook_batch() as batch:
        _workbooks(tmp_path / "batch")
        assert not (tmp_path / "batch" / "0.xlsx").exists()   # written when the batch ends
    assert [f.path.name for f in batch.printed] == ["0.xlsx", "1.xlsx", "2.xlsx"]
    for f in batch.printed:
        assert f.sha256 == sha256_file(f.path) and (f.path.stat().st_mode & 0o777) == 0o600
        with zipfile.ZipFile(tmp_path / "alone" / f.path.name) as a, zipfile.ZipFile(f.path) as b:
            assert a.namelist() == b.namelist()
            for part in a.namelist():
                if part != "docProps/core.xml":
                    assert a.read(part) == b.read(part), (f.path.name, part)
    assert [f.rows for f in batch.printed] == [2 + 2 + 2, 1 + 5 + 1 + 1, 0]
    assert load_workbook(batch.printed[1].path).sheetnames == ["表", "年级", "1班", "链接", "表2"]
    with pytest.raises(RuntimeError):
        with workbook_batch():
            _workbooks(tmp_path / "failed")
            raise RuntimeError("boom")
    assert not any((tmp_path / "failed").rglob("*.xlsx"))


def test_fonts_found_on_this_machine(monkeypatch):
    """Debian's Noto Sans CJK SC (face 2 of the collection), its bold file beside it, HanaMin for 生僻字."""
    monkeypatch.delenv("EXAMFLOW_FONT", raising=False)
    fonts = find_fonts()
    assert fonts.main.family == "Noto Sans CJK SC" and fonts.main.path.suffix == ".ttc"
    from fontTools.ttLib import TTCollection

    names = [f["name"].getDebugName(1) for f in TTCollection(str(fonts.main.path), lazy=True).fonts]
    assert names[fonts.main.index] == "Noto Sans CJK SC"
    assert fonts.bold is not None and "Bold" in fonts.bold.name
    assert {"HanaMinA", "HanaMinB"} <= set(fonts.families[1:])


def _door_list(rows: list[list[str]]) -> dict:
    cols = [{"head": h, "width": w, "align": "C"} for h, w in (("座位号", 15), ("考号", 30), ("姓名", 30), ("班级", 20))]
    return {"title": "测试 门贴", "exam": "测试", "pages": [{"room": "第01考场", "location": "", "session": "第1场",
                                                         "subjects": "科目：语文", "columns": cols, "rows": rows}]}


def test_template_table_repeats_header_and_numbers_pages(press, tmp_path):
    rows = [[str(i), f"0101{i:02d}", "张三丰" if i % 2 else "李四", "3班"] for i in range(1, 101)]
    path = write_owner_only(tmp_path / "t.pdf", press.render("door_lists", _door_list(rows)))
    reader = PdfReader(str(path))
    assert len(reader.pages) >= 3
    for i in range(len(reader.pages)):
        text = squash(pdf_text(path, range(i, i + 1)))
        assert "座位号" in text and "姓名" in text, f"page {i + 1} lacks the header row"
        assert f"第{i + 1}页/共{len(reader.pages)}页" in text
    assert "张三丰" in squash(pdf_text(path, range(0, 1))) and "010199" in squash(pdf_text(path))


@pytest.mark.parametrize("with_change", [True, False])
def test_score_slips_fill_each_page(press, tmp_path, with_change):
    """Every 成绩条 page but the last holds slips_per_page strips: a count that does not fit left every
    other page with one strip (14 pages for a class of 49)."""
    from examflow.printing.class_pdfs import slips_per_page

    heads = ["语文", "数学", "英语", "物理", "化学", "生物", "总分"]
    labels = ["成绩", "原始分", "年级名次", "班级名次"] + (["名次变化"] if with_change else [])
    strips = [{"caption": "测试 成绩条", "who": f"3班 学生{i:02d} 学号 S{i:03d}", "heads": heads,
               "rows": [[lab] + ["128.5"] * len(heads) for lab in labels]} for i in range(20)]
    per_page = slips_per_page(with_change)
    path = write_owner_only(tmp_path / "slips.pdf", press.render(
        "score_slips", {"title": "测试 成绩条", "per_page": per_page, "strips": strips}))
    counts = [pdf_text(path, range(i, i + 1)).count("学号") for i in range(len(PdfReader(str(path)).pages))]
    assert counts == [per_page] * (20 // per_page) + [20 % per_page], counts


def test_rare_characters_fall_back_to_a_second_face(press, tmp_path):
    """U+2A6A5 𪚥 is not in Noto Sans CJK SC: typst takes it from HanaMinB, the rest from Noto."""
    path = write_owner_only(tmp_path / "rare.pdf", press.render("door_lists", _door_list([["1", "01", "王𪚥", "3班"]])))
    fonts = _pdf_fonts(path)
    assert any("NotoSansCJK" in f for f in fonts) and any("HanaMin" in f for f in fonts), fonts
    assert "王𪚥" in squash(pdf_text(path))


def _single_face_otf(tmp_path: Path) -> Path:
    """Noto Sans CJK SC saved as a single-face .otf (what a school downloads from Google Fonts)."""
    from fontTools.ttLib import TTFont

    main = find_fonts().main
    font = TTFont(str(main.path), fontNumber=main.index)
    out = tmp_path / "NotoSansSC-Regular.otf"
    font.save(str(out))
    return out


@pytest.mark.parametrize("kind", ["ttc", "ttf", "otf"])
def test_examflow_font_names_the_file_to_print_with(kind, monkeypatch, tmp_path):
    from examflow.printing.exam import typesetter

    monkeypatch.delenv("EXAMFLOW_FONT", raising=False)
    path = {"ttc": lambda: find_fonts().main.path, "ttf": lambda: Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"),
            "otf": lambda: _single_face_otf(tmp_path)}[kind]()
    if not path.is_file():
        pytest.skip(f"{path} is not installed")
    monkeypatch.setenv("EXAMFLOW_FONT", str(path))
    fonts = find_fonts()
    assert fonts.main.path == path
    with typesetter({}) as setter:
        pdf = write_owner_only(tmp_path / "x.pdf", setter.render("door_lists", _door_list([["1", "01", "张三", "3班"]])))
    embedded = _pdf_fonts(pdf)
    expected = {"ttc": "NotoSansCJK", "ttf": "HanaMinA", "otf": "NotoSans"}[kind]
    assert any(expected in f for f in embedded), embedded
    assert "张三" in squash(pdf_text(pdf))


def test_font_settings_that_name_no_chinese_font_say_so(monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMFLOW_FONT", str(tmp_path / "nope.ttc"))
    with pytest.raises(FontMissing, match="EXAMFLOW_FONT=.*is not a font file"):
        find_fonts()
    monkeypatch.setenv("EXAMFLOW_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file():
        with pytest.raises(FontMissing, match="has no Chinese characters"):
            find_fonts()
    monkeypatch.delenv("EXAMFLOW_FONT")
    with pytest.raises(FontMissing, match="printing.font="):
        find_fonts(str(tmp_path / "nope.otf"))


# ------------------------------------------------------------------------------------------
# 考务 printouts
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    gen = _load_generator()
    roster, subjects, rooms, teachers, prev = gen.make_grade(1200, seed=4)
    from examflow.arrange import arrange, write_printouts

    arr = arrange(roster, subjects, rooms, teachers, {"exam_no_format": "26{room:02d}{seat:02d}"}, "2026-11-12",
                  previous_ranks=prev)
    out = tmp_path_factory.mktemp("exam")
    files = write_printouts(arr, out, exam_name="2026-2027学年高三上学期期中考试")
    return arr, roster, out / "考务", files


def test_printout_files(printed):
    arr, roster, folder, files = printed
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["考试时间表.xlsx", "考试时间表.pdf", "门贴.xlsx", "门贴.pdf", "桌贴.xlsx", "桌贴.pdf",
                            "班级考场安排表.xlsx", "班级考场安排表.pdf", "监考安排表.xlsx", "监考安排表.pdf",
                            "考号名单.csv"])
    assert {f.path.name for f in files} == set(names)
    assert (folder.stat().st_mode & 0o777) == 0o700
    student_names = [n for n in roster["name"].to_list() if len(n) >= 2]
    for p in folder.iterdir():
        assert (p.stat().st_mode & 0o777) == 0o600, p
        assert not any(n in p.name for n in student_names), p.name


def test_printout_workbooks(printed):
    arr, roster, folder, files = printed
    n_sessions = len(arr.sessions)
    expect = {
        "考试时间表.xlsx": (["考试时间表"], ["场次", "日期", "星期", "开始", "结束", "科目", "考生人数", "考场数", "监考人数"]),
        "门贴.xlsx": ([f"第{i}场" for i in range(1, n_sessions + 1)], ["考场", "地点", "座位号", "考号", "姓名", "班级", "科目"]),
        "监考安排表.xlsx": (["监考安排", "教师监考统计"], ["场次", "时间", "科目", "考场", "地点", "考生人数", "主监考", "监考2"]),
        "班级考场安排表.xlsx": ([f"{c}班" for c in range(1, 25)], ["学号", "姓名", "考号", "第1场 语文"]),
        "桌贴.xlsx": (None, ["考场", "座位号", "考号", "姓名", "班级", "科目", "场次"]),
    }
    books = {fname: load_workbook(folder / fname) for fname in expect}
    for fname, (sheets, headers) in expect.items():
        book = books[fname]
        if sheets is not None:
            assert book.sheetnames == sheets, fname
        ws = book.worksheets[0]
        assert [c.value for c in ws[1]][: len(headers)] == headers, fname
        assert ws.freeze_panes == "A2" and ws.print_title_rows == "$1:$1", fname
        assert str(ws.page_setup.paperSize) == "9" and ws.page_setup.fitToWidth == 1, fname
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.auto_filter.ref, fname
        assert "&P" in ws.oddFooter.center.text, fname
    # desk labels: one sheet per seating layout; the core sessions share one
    book = books["桌贴.xlsx"]
    assert book.sheetnames[0] == "第1、2、3场" and len(book.sheetnames) == len(set(arr.layout_of.values()))
    # the formula-like roster name arrives as text, everywhere
    target = roster.filter(pl.col("name").str.starts_with("="))["student_id"].item()
    cls = roster.filter(pl.col("student_id") == target)["class_id"].item()
    ws = books["班级考场安排表.xlsx"][f"{cls}班"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == '=HYPERLINK("x")']
    assert cells and all(c.data_type == "s" for c in cells)
    ws = books["门贴.xlsx"]["第1场"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == '=HYPERLINK("x")']
    assert len(cells) == 1 and cells[0].data_type == "s"
    # door list rows: one per seated student of the session; a page break before each room
    assert ws.max_row - 1 == arr.seating.filter(pl.col("session") == 1).height
    assert len(ws.row_breaks.brk) == arr.stats["rooms_per_session"][1] - 1
    # scanner roster
    text = (folder / "考号名单.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "student_id,name,class,exam_no" and len(text) == roster.height + 1


def test_printout_pdfs(printed):
    arr, roster, folder, files = printed
    for f in ["考试时间表.pdf", "门贴.pdf", "桌贴.pdf", "班级考场安排表.pdf", "监考安排表.pdf"]:
        assert len(PdfReader(str(folder / f)).pages) > 0, f
    # door list page 1: session 1, room 01, its students by seat
    s1 = arr.seating.filter((pl.col("session") == 1) & (pl.col("room") == "01")).sort("seat")
    name_of = dict(zip(roster["student_id"].to_list(), roster["name"].to_list()))
    names = [name_of[s] for s in s1["student_id"].to_list() if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name_of[s])]
    page1 = squash(pdf_text(folder / "门贴.pdf", range(0, 1)))
    assert "第01考场" in page1 and names[0] in page1 and "第1场" in page1
    # one door list page per room x session
    assert len(PdfReader(str(folder / "门贴.pdf")).pages) == sum(arr.stats["rooms_per_session"].values())
    # desk labels: 10 a page
    labels = squash(pdf_text(folder / "桌贴.pdf", range(0, 1)))
    assert names[0] in labels and "第01考场" in labels
    # class list of class 1 names its students and their rooms
    c1 = roster.filter(pl.col("class_id") == "1").sort("student_id")
    first = next(n for n in c1["name"].to_list() if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n))
    cls_text = squash(pdf_text(folder / "班级考场安排表.pdf", range(0, 1)))
    assert "1班考场安排" in cls_text and first in cls_text and "考场" in cls_text
    rota = squash(pdf_text(folder / "监考安排表.pdf", range(0, 1)))
    assert "第1场监考安排" in rota and "第01考场" in rota
    assert "考试时间表" in squash(pdf_text(folder / "考试时间表.pdf"))
