"""The extract's file: where it may go (inside the output folder), its name (never a student's),
the privacy checks on what it holds, and writing it as XLSX or CSV (owner-only, formulas kept text)."""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import polars as pl

from examflow.extracts.errors import ExtractError, ExtractRefused
from examflow.extracts.templates import Template
from examflow.printing import ensure_owner_only_dir, safe_filename, sha256_file, write_owner_only

FORMATS = ("xlsx", "csv")
# columns that may only ever carry masked values (rules.md §9)
SENSITIVE = re.compile(r"id_card|phone|身份证|电话|手机", re.IGNORECASE)

STATUS_ZH = {"ok": "正常", "absent": "缺考", "pending": "待定", "void": "作废", "incomplete": "缺科"}
# column -> (Chinese header, examflow.printing.excel.Column kind); others print as named, as text
COLUMNS: dict[str, tuple[str, str]] = {
    "exam_id": ("考试编号", "id"), "exam_name": ("考试", "text"), "date": ("日期", "date"),
    "class_id": ("班级", "id"), "student_id": ("学号", "id"), "name": ("姓名", "text"), "track": ("类别", "text"),
    "subject": ("科目代码", "text"), "subject_name": ("科目", "text"), "status": ("状态", "text"),
    "score": ("成绩", "score"), "raw_score": ("原始分", "score"), "converted_score": ("赋分", "score"),
    "band": ("等级", "text"), "grade_rank": ("年级名次", "rank"), "class_rank": ("班级名次", "rank"),
    "rank_change": ("名次变化", "int"), "previous_rank": ("上次年级名次", "rank"), "direction": ("进退", "text"),
    "phone_masked": ("联系电话(已脱敏)", "text"), "id_card_masked": ("身份证号(已脱敏)", "text"),
    "line": ("线", "text"), "line_score": ("线分", "score"), "total": ("总分", "score"),
    "distance": ("距线", "score"), "weakest_subject": ("最弱科目", "text"),
    "weakest_subject_code": ("最弱科目代码", "text"), "weakest_score": ("最弱科目成绩", "score"),
    "effective_score": ("有效分", "score"), "weakest_gap": ("差有效分", "score"),
    "n_below_effective": ("低于有效分科目数", "int"), "item": ("题号", "id"), "item_type": ("题型", "text"),
    "full_marks": ("满分", "score"), "knowledge": ("知识点", "text"), "n": ("人数", "int"),
    "n_items": ("题数", "int"), "mean": ("平均分", "decimal"), "difficulty": ("班级得分率", "rate"),
    "cohort_difficulty": ("年级得分率", "rate"), "difficulty_diff": ("差值", "rate"),
    "score_rate": ("班级得分率", "rate"), "cohort_score_rate": ("年级得分率", "rate"),
    "score_rate_diff": ("差值", "rate"), "pass_score": ("及格线", "score"), "shortfall": ("差及格", "score"),
    "school": ("学校", "text"), "n_enrolled": ("应考", "int"), "n_sat": ("实考", "int"), "sd": ("标准差", "decimal"),
    "max": ("最高分", "score"), "min": ("最低分", "score"), "excellent_rate": ("优秀率", "rate"),
    "good_rate": ("良好率", "rate"), "pass_rate": ("及格率", "rate"), "low_rate": ("低分率", "rate"),
    "mean_diff": ("均差", "decimal"), "mean_ratio": ("比均", "decimal"), "rank_by_mean": ("均分名次", "rank"),
    "three_rates_one_score": ("三率一分", "decimal"), "mean_change": ("均分变化", "decimal"),
    "rank_by_mean_change": ("名次变化", "int"),
}


def check_masked(frame: pl.DataFrame) -> None:
    """A column named like a contact column (id_card, phone, …) must hold masked values only: at
    least one '*' and at most 10 characters left visible (an id card's 6 + 4)."""
    for col in frame.columns:
        if not SENSITIVE.search(col):
            continue
        values = frame.get_column(col).drop_nulls().cast(pl.String)
        visible = values.str.replace_all(r"\*", "").str.len_chars()
        bad = values.filter(~values.str.contains(r"\*", literal=False) | (visible > 10))
        if bad.len():
            raise ExtractError(f"column {col!r} holds unmasked values: nothing written (rules.md §9)")


def default_name(template: Template, values: dict, fmt: str) -> str:
    parts = [values["exam_id"], template.name, values["teacher_id"]]
    parts += [str(values[p.name]) for p in template.options if values.get(p.name) != p.default]
    return safe_filename("_".join(parts)) + "." + fmt


def resolve_out(out: str | os.PathLike | None, output_dir: Path, exam_id: str, default_name: str,
                fmt: str | None) -> tuple[Path, str]:
    """The file an extract goes to, and its format. Default `<output>/<exam_id>/extracts/<default
    name>`; `--out` relative to the output folder, or absolute inside it; a folder (existing, or
    written with a trailing slash) takes the default name. ExtractRefused when the path leaves the
    output folder or its suffix disagrees with the format."""
    base = Path(output_dir).resolve()
    if fmt is not None and fmt not in FORMATS:
        raise ExtractRefused(f"--format must be one of {', '.join(FORMATS)}, not {str(fmt)[:20]!r}")
    if out is None or str(out) == "":
        candidate = base / safe_filename(exam_id) / "extracts" / default_name
    else:
        text = str(out)
        if any(ord(ch) < 32 for ch in text):
            raise ExtractRefused("--out holds control characters")
        p = Path(text).expanduser()
        candidate = p if p.is_absolute() else base / p
        if text.endswith(("/", os.sep)) or candidate.is_dir():
            candidate = candidate / default_name
    resolved = candidate.resolve()  # symlinks and .. resolved: what the file would really be
    if resolved == base or not resolved.is_relative_to(base):
        raise ExtractRefused(f"--out must stay inside the output folder {base}: {str(out)!r} is outside it")
    suffix = resolved.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        if fmt is not None and fmt != suffix:
            raise ExtractRefused(f"--out ends in .{suffix} but --format is {fmt}")
        fmt = suffix
    elif suffix == "" or (out is None):
        fmt = fmt or "xlsx"
        resolved = resolved.with_name(resolved.name + "." + fmt)
    else:
        raise ExtractRefused(f"--out must end in .xlsx or .csv (or have no suffix), not .{suffix}")
    if resolved.is_dir():
        raise ExtractRefused(f"--out names a folder: {resolved}")
    return resolved, fmt


def _display(frame: pl.DataFrame) -> pl.DataFrame:
    if "status" in frame.columns:
        frame = frame.with_columns(pl.col("status").replace_strict(STATUS_ZH, default=pl.col("status")))
    return frame


def _columns(frame: pl.DataFrame):
    from examflow.printing.excel import Column

    cols = []
    for name in frame.columns:
        header, kind = COLUMNS.get(name, (name, "text"))
        cols.append(Column(name, header, kind))
    return cols


def _csv_cell(v: Any) -> Any:
    from examflow.printing.excel import is_formula_like

    if v is None:
        return ""
    if isinstance(v, str) and is_formula_like(v):
        return "'" + v  # Excel and WPS open CSVs too: the apostrophe keeps it text
    if isinstance(v, float):
        return repr(round(v, 10)).rstrip("0").rstrip(".") if v == v else ""
    return v


def write_extract(path: Path, fmt: str, frame: pl.DataFrame, template: Template, info: list[tuple[str, str]],
                  title: str) -> str:
    """Write the extract (owner-only, atomically); return its sha256."""
    from examflow.printing.excel import Column, WorkbookWriter

    ensure_owner_only_dir(path.parent)
    shown = _display(frame)
    if fmt == "xlsx":
        with WorkbookWriter(path, kind=f"extracts/{template.name}") as wb:
            wb.add_table(template.title, shown, _columns(shown), title=title)
            wb.add_table("说明", [list(r) for r in info], [Column(0, "项目"), Column(1, "内容")], title=title)
        return wb.printed.sha256
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.header for c in _columns(shown)])
    for row in shown.iter_rows():
        w.writerow([_csv_cell(v) for v in row])
    write_owner_only(path, "\ufeff" + buf.getvalue())  # BOM: Excel and WPS read UTF-8 CSV as such
    return sha256_file(path)


def check_file_name(path: Path, out_dir: Path, frame: pl.DataFrame) -> None:
    """No student's name in the file's path below the output folder (rules.md §9)."""
    if "name" not in frame.columns:
        return
    rel = str(path.relative_to(Path(out_dir).resolve()))
    for name in frame.get_column("name").drop_nulls().unique().to_list():
        if len(name) >= 2 and name in rel:
            raise ExtractRefused("--out would put a student's name into the file name (rules.md §9); "
                                 "choose another name")
