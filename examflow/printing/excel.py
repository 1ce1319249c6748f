"""Excel printouts on openpyxl: tables with Chinese headers that open in Excel and WPS ready to
filter and to print (outputs.md "Printouts").

Usage::

    cols = [Column("name", "姓名"), Column("total", "总分", "score"),
            Column("grade_rank", "年级名次", "rank"), Column("pass_rate", "及格率", "rate")]
    with WorkbookWriter(path) as wb:          # streaming (openpyxl write-only) by default
        wb.add_table("全年级", df, cols, title="高三期中考试 成绩总表")
        for class_id, part in ...:
            wb.add_table(f"{class_id}班", part, cols)
    wb.printed   # PrintedFile(path, kind, rows, sha256) for the audit row

What every sheet gets:
- row 1 is the header row: bold, shaded, centred, frozen (`freeze_panes = "A2"`), with an
  autofilter over the whole table, and repeated on every printed page (`print_title_rows`);
- a number format per column kind (`Column.kind`):
  `text` (General), `id` (text "@": exam numbers keep their leading zeros), `int` and `rank`
  ("0"), `score` (value rounded to one decimal, General format, so 95 shows as 95 and 95.5 as
  95.5: at most one decimal), `rate` (a fraction in [0, 1] shown as "0.0%"), `decimal`
  ("0.00"), `date` ("yyyy-mm-dd"), `datetime` ("yyyy-mm-dd hh:mm"), `time` ("hh:mm");
  a string in a numeric column (缺考, "-") is written as text;
- column widths that fit Chinese text: a CJK or full-width character counts as two Latin
  characters (Excel's width unit); measured on the header and up to `WIDTH_SAMPLE` rows;
- print setup: A4, fit to one page wide (any number of pages tall), portrait or landscape
  (landscape when the table is wider than ~100 characters unless told), narrow margins,
  header row repeated, the title in the page header, "第 &P 页 / 共 &N 页" in the footer;
- formula injection guard (rules.md §9): every string that begins with = + - @ (or a tab /
  carriage return) is written as a string cell (data_type "s", quotePrefix set) and never as a
  formula - a roster name `=HYPERLINK("x")` arrives as the text it is.

Streaming: `WorkbookWriter(path, streaming=True)` (the default) uses openpyxl's write-only
workbook, which writes each row as it comes and keeps memory flat for sheets of 100k+ rows
(~7-15 s per million cells); everything above works in that mode (freeze panes, filter, print
titles, page setup, row breaks). `streaming=False` keeps the normal workbook (needed only to edit
cells after adding them). Files are written owner-only and atomically (`examflow.printing`).
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from examflow.printing import PrintedFile, owner_only_file, sha256_file

__all__ = [
    "Column",
    "COLUMN_KINDS",
    "WorkbookWriter",
    "display_width",
    "is_formula_like",
    "sheet_title",
    "write_workbook",
]

WIDTH_SAMPLE = 2000  # rows measured for column widths
MAX_WIDTH = 60.0
MIN_WIDTH = 4.0
LANDSCAPE_ABOVE = 100.0  # total column width (Excel units) above which sheets print landscape

# kind -> (number_format, python conversion)
COLUMN_KINDS: dict[str, str] = {
    "text": "General",
    "id": "@",
    "int": "0",
    "rank": "0",
    "score": "General",
    "rate": "0.0%",
    "decimal": "0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "time": "hh:mm",
}
_NUMERIC = {"int", "rank", "score", "rate", "decimal"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_THIN = Side(style="thin", color="808080")
_HEADER_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class Column:
    """One column of a table: where its value comes from, its Chinese header, its kind."""

    key: str | int  # key in a row mapping / DataFrame column name, or index in a row sequence
    header: str
    kind: str = "text"
    width: float | None = None  # Excel width units; None = fit the content

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.header!r}: unknown kind {self.kind!r}; one of {sorted(COLUMN_KINDS)}")


def display_width(text: Any) -> int:
    """Width of `text` in Excel's units: CJK / full-width characters count two, others one."""
    s = "" if text is None else str(text)
    w = 0
    for ch in s:
        if ch.isascii():
            w += 1
        else:
            w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_FORMULA_START)


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique worksheet title: no []:*?/\\, at most 31 characters."""
    base = _SHEET_BAD.sub("_", str(name)).strip("'") or "Sheet"
    base = base[:31]
    lowered = {t.lower() for t in taken}
    title, n = base, 1
    while title.lower() in lowered:
        n += 1
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
    return title


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _convert(value: Any, kind: str) -> tuple[Any, bool]:
    """(value to write, force_text). force_text marks strings that must not become formulas."""
    if _is_missing(value):
        return None, False
    if kind in _NUMERIC:
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if kind in ("int", "rank"):
                return (int(round(value)) if isinstance(value, float) else value), False
            if kind == "score":
                r = round(float(value), 1)
                return (int(r) if r.is_integer() else r), False
            return float(value), False
        # a status in a numeric column (缺考, "-"): text
        s = str(value)
        return s, is_formula_like(s)
    if kind in ("date", "datetime", "time"):
        if isinstance(value, (dt.date, dt.datetime, dt.time)):
            return value, False
        s = str(value)
        return s, is_formula_like(s)
    if isinstance(value, str):
        return value, is_formula_like(value)
    if kind == "id":
        return str(value), False
    if isinstance(value, (list, tuple)):
        s = "、".join(str(v) for v in value)
        return s, is_formula_like(s)
    if isinstance(value, (int, float, dt.date, dt.datetime)):
        return value, False
    s = str(value)
    return s, is_formula_like(s)


def _rows_of(data: Any, columns: Sequence[Column]) -> tuple[list[Column], Iterable[Sequence[Any]], int | None]:
    """Normalise the table source to (columns, row tuples, row count if known)."""
    try:  # polars without importing it eagerly
        import polars as pl
    except ImportError:  # pragma: no cover
        pl = None  # type: ignore[assignment]
    if pl is not None and isinstance(data, pl.DataFrame):
        cols = list(columns) if columns else [Column(c, c) for c in data.columns]
        keys = [c.key if isinstance(c.key, str) else data.columns[c.key] for c in cols]
        return cols, data.select(keys).iter_rows(), data.height
    rows = list(data) if not isinstance(data, list) else data
    if not columns:
        if rows and isinstance(rows[0], Mapping):
            cols = [Column(k, str(k)) for k in rows[0].keys()]
        else:
            raise ValueError("columns are required for rows given as sequences")
    else:
        cols = list(columns)
    if rows and isinstance(rows[0], Mapping):
        keys = [c.key for c in cols]
        return cols, ([r.get(k) for k in keys] for r in rows), len(rows)
    idx = [c.key if isinstance(c.key, int) else i for i, c in enumerate(cols)]
    return cols, ([r[i] if i < len(r) else None for i in idx] for r in rows), len(rows)


class WorkbookWriter:
    """Builds one .xlsx file sheet by sheet; see the module docstring."""

    def __init__(self, path: str | os.PathLike, *, streaming: bool = True, kind: str | None = None):
        self.path = Path(path)
        self.kind = kind or self.path.name
        self.streaming = streaming
        self.wb = Workbook(write_only=streaming)
        if not streaming:
            self.wb.remove(self.wb.active)
        self._titles: list[str] = []
        self.rows = 0
        self.printed: PrintedFile | None = None

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> "WorkbookWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.save()

    # -- sheets ----------------------------------------------------------------------------
    def add_table(
        self,
        name: str,
        data: Any,
        columns: Sequence[Column] | None = None,
        *,
        title: str | None = None,
        landscape: bool | None = None,
        page_breaks_before: Iterable[int] = (),
        footer_note: str | None = None,
    ):
        """Write a table on a new sheet. `data`: a polars DataFrame, a list of mappings, or a list
        of sequences (then `columns` is required; `Column.key` may be the index). `title` prints
        in the page header; `page_breaks_before` are 0-based data-row indices that start a new
        printed page (e.g. one room per page). Returns the worksheet."""
        cols, rows, _n = _rows_of(data, columns or ())
        if not cols:
            raise ValueError(f"sheet {name!r}: no columns")
        # materialise a sample for widths; keep streaming the rest
        sample: list[Sequence[Any]] = []
        it = iter(rows)
        for r in it:
            sample.append(r)
            if len(sample) >= WIDTH_SAMPLE:
                break
        widths = []
        for j, c in enumerate(cols):
            if c.width is not None:
                widths.append(float(c.width))
                continue
            w = display_width(c.header)
            for r in sample:
                v = r[j]
                if _is_missing(v):
                    continue
                if c.kind == "score" and isinstance(v, float):
                    v = round(v, 1)
                elif c.kind == "rate" and isinstance(v, (int, float)):
                    v = f"{v * 100:.1f}%"
                elif c.kind == "datetime":
                    v = "2026-11-12 08:00"
                elif c.kind == "date":
                    v = "2026-11-12"
                elif isinstance(v, (list, tuple)):
                    v = "、".join(map(str, v))
                w = max(w, display_width(v))
            widths.append(min(MAX_WIDTH, max(MIN_WIDTH, w + 2.5)))

        title_ = sheet_title(name, self._titles)
        self._titles.append(title_)
        ws = self.wb.create_sheet(title_)
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = w
        ncols = len(cols)
        last_col = get_column_letter(ncols)

        # print setup (before rows: write-only sheets serialise on save, but keep one order)
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.paperSize = "9"  # A4
        wide = sum(widths) > LANDSCAPE_ABOVE if landscape is None else landscape
        ws.page_setup.orientation = "landscape" if wide else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.page_margins.header = ws.page_margins.footer = 0.3
        ws.print_options.horizontalCentered = True
        if title:
            ws.oddHeader.center.text = _hf_escape(title)
            ws.evenHeader.center.text = _hf_escape(title)
        footer = "第 &P 页 / 共 &N 页"
        ws.oddFooter.center.text = footer
        ws.evenFooter.center.text = footer
        if footer_note:
            ws.oddFooter.left.text = _hf_escape(footer_note)
            ws.evenFooter.left.text = _hf_escape(footer_note)

        header_cells = []
        for c in cols:
            h = self._cell(ws, str(c.header))
            if is_formula_like(c.header):
                h.data_type = "s"
            h.font, h.fill, h.alignment, h.border = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN, _HEADER_BORDER
            header_cells.append(h)
        self._append(ws, header_cells)

        formats = [COLUMN_KINDS[c.kind] for c in cols]
        kinds = [c.kind for c in cols]
        n = 0
        for r in _chain(sample, it):
            out = []
            for j in range(ncols):
                value, force_text = _convert(r[j], kinds[j])
                if value is None:
                    out.append(None)
                    continue
                fmt = formats[j]
                if fmt == "General" and not force_text:
                    if isinstance(value, dt.datetime):
                        fmt = COLUMN_KINDS["datetime"]
                    elif isinstance(value, dt.date):
                        fmt = COLUMN_KINDS["date"]
                    elif isinstance(value, dt.time):
                        fmt = COLUMN_KINDS["time"]
                    else:
                        out.append(value)  # plain value: cheapest path
                        continue
                cell = self._cell(ws, value)
                if force_text or isinstance(value, str):
                    cell.data_type = "s"  # never a formula
                    if force_text:
                        cell.quotePrefix = True
                    if fmt not in ("General", "@"):
                        fmt = "General"
                cell.number_format = fmt
                out.append(cell)
            self._append(ws, out)
            n += 1
        last_row = max(1, n + 1)
        ws.auto_filter.ref = f"A1:{last_col}{last_row}"
        for i in sorted(set(page_breaks_before)):
            if 0 < i < n:
                ws.row_breaks.append(Break(id=i + 1))  # break after sheet row i+1 (header is row 1)
        self.rows += n
        return ws

    def _cell(self, ws, value: Any):
        return WriteOnlyCell(ws, value=value) if self.streaming else Cell(ws, value=value)

    def _append(self, ws, cells: list) -> None:
        ws.append(cells)

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> PrintedFile:
        if self.printed is not None:
            return self.printed
        if not self._titles:
            ws = self.wb.create_sheet("空")
            self._append(ws, ["（无数据）"])
        with owner_only_file(self.path) as fh:
            self.wb.save(fh)
        self.printed = PrintedFile(self.path, self.kind, self.rows, sha256_file(self.path))
        return self.printed


def _chain(first: list, rest: Iterable) -> Iterable:
    yield from first
    yield from rest


def _hf_escape(text: str) -> str:
    """Header/footer text: '&' starts a control code in Excel, so double it."""
    return str(text).replace("&", "&&")


def write_workbook(
    path: str | os.PathLike,
    sheets: Sequence[tuple[str, Any, Sequence[Column] | None]] | Mapping[str, Any],
    *,
    title: str | None = None,
    streaming: bool = True,
    kind: str | None = None,
) -> PrintedFile:
    """One-call helper: `sheets` is a list of (sheet name, data, columns) or a mapping
    {sheet name: DataFrame}. Returns the PrintedFile."""
    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    with WorkbookWriter(path, streaming=streaming, kind=kind) as wb:
        for entry in items:
            name, data = entry[0], entry[1]
            cols = entry[2] if len(entry) > 2 else None
            wb.add_table(name, data, cols, title=title)
    return wb.printed  # type: ignore[return-value]
