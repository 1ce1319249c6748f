"""Joint exams (联考, rules.md §11): each school's bundle and the district's 联考总表.

- `<exam>/schools/<school>/`: 成绩总表 (its students, joint and school ranks), 班级量化表 (its classes
  against the joint cohort, and its own school's row), 教师量化表 (its teachers), and 成绩单/成绩条 of
  its classes. A bundle is the exam's data filtered to the school (`school_data`) handed to the same
  writers as the exam's printouts, into another folder, every school's workbooks written as one
  batch; the class PDFs are hard links to the exam's own (a class PDF shows one class only). No
  file of a bundle names a student of another school.
- `<exam>/联考总表.xlsx`: every school side by side per subject, total and track (mart.school_quant),
  per cut line (mart.school_lines), and a chart of the schools' mean totals.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import polars as pl

from examflow.printing import (PrintedFile, ensure_owner_only_dir, owner_only_file, owner_only_link, safe_filename,
                               sha256_file)
from examflow.printing.data import ExamData, track_label

__all__ = ["SCHOOL_TABLES", "JOINT_SUMMARY", "schools_of", "school_data", "school_folder", "write_school_workbooks",
           "link_school_pdfs", "write_joint_summary"]

SCHOOL_TABLES = ["school_quant", "school_lines"]
JOINT_SUMMARY = "联考总表.xlsx"
SCHOOLS_DIR = "schools"


def schools_of(data: ExamData) -> list[str]:
    """The schools of a joint exam (those with school_quant rows), else []."""
    sq = data.table("school_quant")
    if sq is None or not sq.height:
        return []
    return sorted(s for s in sq["school"].unique().to_list() if s != "*")


def school_folder(folder: Path, school: str) -> Path:
    return folder / SCHOOLS_DIR / safe_filename(school)


def school_data(data: ExamData, school: str) -> ExamData:
    """The exam's data as one school sees it: rows of its students, of its classes and of its teachers,
    plus the joint cohort's rows (class_id '*') and the exam-wide tables without student rows; its
    own school_quant rows join class_quant as a class named after the school (`一中全校`), so its
    班级量化表 reads its classes against the joint cohort and its own school."""
    students = data.table("students")
    mine = students.filter(pl.col("school") == school)
    ids, classes = mine["student_id"], pl.Series(mine["class_id"].unique().to_list() + ["*"], dtype=pl.String)
    tq = data.table("teacher_quant")
    own_class = pl.col("class_id").is_in(classes.to_list()) & (pl.col("class_id") != "*")
    teachers = tq.filter(own_class)["teacher_id"].unique() if tq is not None else pl.Series([], dtype=pl.String)
    tables: dict[str, pl.DataFrame | None] = {}
    for name, frame in data.tables.items():
        if frame is None:
            tables[name] = None
        elif name == "students":
            tables[name] = mine
        elif name == "teacher_quant":
            tables[name] = frame.filter(pl.col("teacher_id").is_in(teachers.to_list()))
        elif name == "marker_quality":
            tables[name] = frame.filter(pl.col("marker").is_in(teachers.to_list()))
        elif "student_id" in frame.columns:
            tables[name] = frame.filter(pl.col("student_id").is_in(ids.to_list()))
        elif "class_id" in frame.columns:
            tables[name] = frame.filter(pl.col("class_id").is_in(classes.to_list()))
        elif name in SCHOOL_TABLES:
            tables[name] = frame.filter(pl.col("school") == school)
        else:
            tables[name] = frame
    cq, sq = tables.get("class_quant"), tables.get("school_quant")
    if cq is not None and sq is not None:
        own = sq.drop("school").with_columns(class_id=pl.lit(f"{school}全校"))
        tables["class_quant"] = pl.concat([cq, own.select([c for c in own.columns if c in cq.columns])],
                                          how="diagonal_relaxed")
    return ExamData(exam_id=data.exam_id, name=f"{data.title} {school}", date=data.date, grade=data.grade,
                    previous=data.previous, folder=data.folder, printing=data.printing, subjects=data.subjects,
                    tables=tables)


def write_school_workbooks(data: ExamData, folder: Path) -> list[PrintedFile]:
    """Each school's 成绩总表, 班级量化表 and 教师量化表 (the exam's writers on the school's data),
    written as one batch: a sheet of every school converted in one pass (`workbook_batch`), since
    twenty small workbooks written one by one cost five times the exam's own."""
    from examflow.printing.excel import workbook_batch
    from examflow.printing.workbooks import Notes, write_class_quant, write_grade_scores, write_teacher_quant

    with workbook_batch() as batch:
        for school in schools_of(data):
            mine, out, notes = school_data(data, school), ensure_owner_only_dir(school_folder(folder, school)), Notes()
            for write in (write_grade_scores, write_class_quant, write_teacher_quant):
                write(mine, out, notes)
    return batch.printed


def link_school_pdfs(data: ExamData, folder: Path, pdfs: Sequence[PrintedFile],
                     classes: dict[Path, str]) -> list[PrintedFile]:
    """Each school's classes' 成绩单 / 成绩条: the exam's class PDFs just written (`pdfs`, `classes`
    their class ids), put into the school's bundle as hard links (`owner_only_link`: the same
    file, so the same sha256; an owner-only copy where links are not possible); `classes` gains
    them. PDFs of classes that no longer exist are removed from the bundles."""
    students = data.table("students")
    school_of = dict(zip(students["class_id"].to_list(), students["school"].to_list()))
    files: list[PrintedFile] = []
    for f in pdfs:
        school = school_of.get(classes.get(f.path))
        if school is None:
            continue
        target = school_folder(folder, school) / f.path.parent.name / f.path.name
        owner_only_link(f.path, target)
        files.append(PrintedFile(target, f.kind, f.rows, f.sha256))
        classes[target] = classes[f.path]
    written = {f.path for f in files}
    for stale in (p for d in {f.path.parent for f in pdfs} for p in (folder / SCHOOLS_DIR).glob(f"*/{d.name}/*.pdf")):
        if stale not in written:        # a class that no longer exists (as the exam's own PDFs)
            stale.unlink()
    return files


def write_joint_summary(data: ExamData, folder: Path) -> PrintedFile:
    """联考总表.xlsx: one sheet per subject (总分 first) with the schools side by side per track, 上线
    (per school, line and track), 均分对比 (each school's mean per subject and track) and 图表 (a bar
    chart of the schools' mean totals per track)."""
    from examflow.printing.excel import Column, WorkbookWriter
    from examflow.printing.workbooks import QUANT_COLUMNS

    sq = data.table("school_quant")
    rows = sq.to_dicts()
    for r in rows:
        r["_class"] = "联考全体" if r["school"] == "*" else r["school"]
        r["_track"] = track_label(r["track"])
    order = {"physics": 0, "history": 1, "all": 2}
    cols = [Column("_class", "学校")] + [c for c in QUANT_COLUMNS[1:] if c.key in sq.columns or c.key == "_track"]
    codes = sorted({r["subject"] for r in rows}, key=lambda c: (c != "total", data.subject_order(c)))
    path = ensure_owner_only_dir(folder) / JOINT_SUMMARY
    means = _mean_grid(data, sq)
    with WorkbookWriter(path, kind="joint_summary.xlsx") as wb:
        for code in codes:
            part = sorted((r for r in rows if r["subject"] == code),
                          key=lambda r: (order.get(r["track"], 3), r["school"] == "*", r["rank_by_mean"] or 0,
                                         r["school"]))
            sheet = data.subject_name(code)
            wb.add_table(sheet, part, cols, title=f"{data.title} 联考 学校对比 {sheet}")
        sl = data.table("school_lines")
        if sl is not None:
            lines = sl.with_columns(_track=pl.col("track").map_elements(track_label, return_dtype=pl.String),
                                    _school=pl.when(pl.col("school") == "*").then(pl.lit("联考全体"))
                                    .otherwise(pl.col("school")),
                                    _o=pl.col("track").replace_strict(order, default=3)).sort(
                "_o", "line_no", pl.col("school") == "*", "n_over", descending=[False, False, False, True])
            wb.add_table("上线", lines, [Column("_track", "类别"), Column("line", "线"), Column("_school", "学校"),
                                        Column("line_score", "分数线", "score"), Column("n_over", "上线人数", "int"),
                                        Column("n_ok", "有总分人数", "int"), Column("over_rate", "上线率", "rate")],
                         title=f"{data.title} 联考 各校上线")
        wb.add_table("均分对比", means, [Column("学校", "学校")] + [Column(c, c, "score") for c in means.columns[1:]],
                     title=f"{data.title} 联考 各校均分")
    _add_chart(path, means)
    return PrintedFile(path, "joint_summary.xlsx", len(rows), sha256_file(path))


def _mean_grid(data: ExamData, sq: pl.DataFrame) -> pl.DataFrame:
    """One row per school (the joint cohort last), one column per subject × track mean (总分 first)."""
    keys = sorted(set(zip(sq["subject"].to_list(), sq["track"].to_list())),
                  key=lambda k: (k[0] != "total", data.subject_order(k[0]), {"physics": 0, "history": 1}.get(k[1], 2)))
    label = {k: ("总分" if k[0] == "total" else data.subject_name(k[0]))
             + ("" if k[1] == "all" else f"({track_label(k[1])})") for k in keys}
    part = sq.with_columns(label=pl.struct("subject", "track").map_elements(
        lambda r: label[(r["subject"], r["track"])], return_dtype=pl.String))
    grid = part.pivot(on="label", index="school", values="mean").select("school", *label.values())
    return grid.sort(pl.col("school") == "*", "school").with_columns(
        pl.when(pl.col("school") == "*").then(pl.lit("联考全体")).otherwise(pl.col("school")).alias("学校")
    ).select("学校", *label.values())


def _add_chart(path: Path, means: pl.DataFrame) -> None:
    """A sheet 图表 with a bar chart of the schools' mean totals (the 总分 columns of 均分对比)."""
    from openpyxl import load_workbook
    from openpyxl.chart import BarChart, Reference

    totals = [i for i, c in enumerate(means.columns) if c.startswith("总分")]
    if not totals or not means.height:
        return
    wb = load_workbook(path)
    ws = wb["均分对比"]
    chart = BarChart()
    chart.title, chart.y_axis.title, chart.x_axis.title = "各校总分平均分", "平均分", "学校"
    chart.width, chart.height = 24, 12
    for i in totals:
        chart.add_data(Reference(ws, min_col=i + 1, min_row=1, max_row=means.height + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=means.height + 1))
    wb.create_sheet("图表").add_chart(chart, "A1")
    with owner_only_file(path) as out:
        wb.save(out)
