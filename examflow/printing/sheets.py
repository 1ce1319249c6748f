"""What the workbooks' sheets share (examflow.printing.workbooks): the note of a sheet skipped for a
missing table, printable labels, and the shape most sheets have (`table_sheet`)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import polars as pl

from examflow.printing.data import ExamData, class_label, track_label
from examflow.printing.excel import Column, WorkbookWriter

__all__ = ["TRACK_ORDER", "Notes", "labelled_rows", "note_sheet", "nulls_last", "optional_column", "present_columns",
           "table_rows", "table_sheet", "track_order"]

TRACK_ORDER = {"physics": 0, "history": 1, "all": 2}


class Notes:
    """Sheets skipped for a missing table, per workbook and for the whole run."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def missing(self, workbook: str, sheet: str, table: str) -> None:
        self.items.append(f"{workbook}：未生成「{sheet}」—— 仓库中没有 mart.{table}（量化表尚未计算或版本较旧）")


def table_rows(frame: pl.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else frame.to_dicts()


def present_columns(cols: Sequence[Column], available: Iterable[str], always: Iterable[str] = ()) -> list[Column]:
    """The columns whose source exists (extra columns of a table are printed only when present)."""
    have = set(available) | set(always)
    return [c for c in cols if c.key in have]


def nulls_last(v: Any) -> tuple:
    return (v is None, v if v is not None else 0)


def track_order(t: Any) -> int:
    return TRACK_ORDER.get(str(t), 3)


def labelled_rows(frame: pl.DataFrame, data: ExamData, label: Callable[[dict[str, Any]], None] | None = None,
                  keep: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
    """The table's rows (those `keep` keeps) with printable labels: 班级 / 类别 / 学科, then `label`'s."""
    rows = [r for r in frame.to_dicts() if keep is None or keep(r)]
    for r in rows:
        if "class_id" in r:
            r["_class"] = class_label(r["class_id"])
        if "track" in r:
            r["_track"] = track_label(r["track"])
        if "subject" in r:
            r["_subject"] = data.subject_name(r["subject"])
        if label is not None:
            label(r)
    return rows


def table_sheet(wb: WorkbookWriter, data: ExamData, notes: Notes | None, workbook: str, table: str, sheet: str,
                columns: Sequence[Column], sort: Callable[[dict[str, Any]], Any], title: str, *,
                keep: Callable[[dict[str, Any]], bool] | None = None,
                label: Callable[[dict[str, Any]], None] | None = None,
                links: Callable[[list[dict[str, Any]]], Mapping[str, Sequence[str | None]]] | None = None,
                below: Sequence[str] = ()) -> list[dict[str, Any]] | None:
    """The shape most sheets share: mart.`table`'s rows (kept, labelled, sorted) under the columns the
    table has; the derived `_` columns always. When the warehouse lacks the table the sheet is
    skipped and, unless `notes` is None, the 说明 sheet says so. Returns the rows written."""
    frame = data.table(table)
    if frame is None:
        if notes is not None:
            notes.missing(workbook, sheet, table)
        return None
    rows = labelled_rows(frame, data, label, keep)
    rows.sort(key=sort)
    cols = present_columns(columns, frame.columns, (c.key for c in columns if c.key.startswith("_")))
    wb.add_table(sheet, rows, cols, title=f"{data.title} {title}", links=links(rows) if links else None, below=below)
    return rows


def note_sheet(wb: WorkbookWriter, workbook: str, notes: Notes, extra: Sequence[str] = ()) -> None:
    mine = [n for n in notes.items if n.startswith(workbook)] + list(extra)
    if mine:
        wb.add_table("说明", [{"note": n} for n in mine], [Column("note", "说明")])


def optional_column(frame: pl.DataFrame, name: str, dtype: Any = pl.String) -> pl.Expr:
    """A column of the table, or nulls when the table lacks it (columns beyond outputs.md's)."""
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
