"""Excel printouts: tables with Chinese headers that open in Excel and WPS ready to filter and to
print (outputs.md "Printouts").

Usage::

    cols = [Column("name", "姓名"), Column("total", "总分", "score"),
            Column("grade_rank", "年级名次", "rank"), Column("pass_rate", "及格率", "rate")]
    with WorkbookWriter(path) as wb:
        wb.add_table("全年级", df, cols, title="高三期中考试 成绩总表")
        wb.add_sheets(df, cols, sheet="_sheet", names=["1班", "2班"])  # one sheet per value of _sheet
    wb.printed   # PrintedFile(path, kind, rows, sha256) for the audit row

What every sheet gets:
- row 1 is the header row: bold, shaded, centred, frozen, with an autofilter over the whole
  table, and repeated on every printed page (print titles);
- a number format per column kind (`Column.kind`):
  `text` (General), `id` (text "@": exam numbers keep their leading zeros), `int` and `rank`
  ("0"), `score` (value rounded to one decimal, General format, so 95 shows as 95 and 95.5 as
  95.5: at most one decimal), `rate` (a fraction in [0, 1] shown as "0.0%"), `decimal`
  ("0.00"), `date` ("yyyy-mm-dd"), `datetime` ("yyyy-mm-dd hh:mm"), `time` ("hh:mm");
  a string in a numeric column (缺考, "-") is written as text, and `Column.otherwise` names a
  text printed where the value is missing (a score's status beside the score); an empty string
  is an empty cell;
- column widths that fit Chinese text: a CJK or full-width character counts as two Latin
  characters (Excel's width unit); measured on the header and up to `WIDTH_SAMPLE` rows;
- print setup: A4, fit to one page wide (any number of pages tall), portrait or landscape
  (landscape when the table is wider than ~100 characters unless told), narrow margins,
  header row repeated, the title in the page header, "第 &P 页 / 共 &N 页" in the footer;
- formula injection guard (rules.md §9): every string is written as a string cell, never a
  formula; one that begins with = + - @ (or a tab / carriage return) also gets quotePrefix - a
  roster name `=HYPERLINK("x")` arrives as the text it is;
- optionally links (`links=`, e.g. to scan images) and text lines beneath the table (`below=`).

How: the workbook (SpreadsheetML in a zip) is written here directly, a column at a time: polars
expressions turn a column's values into its cells' XML, and Python sees only each column's
distinct floats (for Python's own `round` and the "%.16g" text openpyxl wrote) and distinct
texts (for their display width). openpyxl built an object per cell - about a minute for the
five workbooks of a 50,000-student grade, now a few seconds. Sheets go into an anonymous
temporary file as they are added (memory stays flat); `save` moves the workbook to its path
owner-only and atomically (`examflow.printing`).

A pass costs about the same for a table of ten rows as for one of a thousand (a few polars calls per
column), so many small workbooks of the same tables (a joint exam's twenty school bundles) are
written in a batch: workbooks opened inside `with workbook_batch() as batch:` keep their tables and
are written when the block ends, the tables alike across them (same columns and print options)
converted in one pass as one table of many sheets; `batch.printed` lists the files.
"""
from __future__ import annotations

import collections
import contextlib
import contextvars
import datetime as dt
import itertools
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

import polars as pl

from examflow.printing import PrintedFile, ensure_owner_only_dir, owner_only_file, sha256_file
from examflow.printing.xlsx_cells import (
    COLUMN_KINDS,
    HEADER,
    PLAIN,
    QUOTED,
    Column,
    attrs,
    cell_xml,
    display_width,
    is_formula_like,
    resolved_columns,
    typed_columns,
    value_widths,
)

__all__ = [
    "Column",
    "COLUMN_KINDS",
    "WorkbookBatch",
    "WorkbookWriter",
    "display_width",
    "is_formula_like",
    "sheet_title",
    "workbook_batch",
    "write_workbook",
]

WIDTH_SAMPLE = 2000  # rows measured for column widths
MAX_WIDTH = 60.0
MIN_WIDTH = 4.0
LANDSCAPE_ABOVE = 100.0  # total column width (Excel units) above which sheets print landscape
CHUNK_ROWS = 20_000  # rows turned into XML at a time
COMPRESSION = 4  # zlib level: the default (6, what openpyxl used) takes twice as long for files ~10% smaller

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")



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


@dataclass
class _Table:
    """One add_table / add_sheets call: its rows (a frame or a list of rows), columns, each row's
    sheet (an index into `names`) and how the sheets print."""

    data: pl.DataFrame | list
    columns: list[Column]
    sheet_of: pl.Series
    names: list[str]
    titles: list[str | None]
    landscape: bool | None
    footer_note: str | None = None
    below: tuple[str, ...] = ()
    breaks: list[int] = field(default_factory=list)
    links: dict[str | int, pl.Series] = field(default_factory=dict)

    def same_as(self) -> tuple:
        """What tables must share to be converted in one pass: columns, print options, and the
        frame's schema or the rows' shape (tables with links or page breaks go alone)."""
        if self.breaks or self.links:
            return (id(self),)
        shape = (tuple(self.data.schema.items()) if isinstance(self.data, pl.DataFrame)
                 else bool(self.data) and isinstance(self.data[0], Mapping))
        return tuple(self.columns), self.landscape, self.footer_note, self.below, shape


def _write_tables(writers: Sequence["WorkbookWriter"], tables: Sequence[_Table]) -> None:
    """The tables (alike: `_Table.same_as`), table i into writers[i], converted in one pass: their
    rows put end to end, their sheets numbered on."""
    first = tables[0]
    if len(tables) == 1:
        data, sheet_of = first.data, first.sheet_of
    else:
        frames = isinstance(first.data, pl.DataFrame)
        data = pl.concat([t.data for t in tables]) if frames else [r for t in tables for r in t.data]
        offsets = itertools.accumulate((len(t.names) for t in tables[:-1]), initial=0)
        sheet_of = pl.concat([t.sheet_of + offset for t, offset in zip(tables, offsets)])
    typed = typed_columns(data, first.columns)
    _write(first.columns, typed, sheet_of, [n for t in tables for n in t.names],
           [x for t in tables for x in t.titles], writers=[w for w, t in zip(writers, tables) for _ in t.names],
           landscape=first.landscape, breaks=first.breaks, footer_note=first.footer_note, links=first.links,
           below=first.below)


# --------------------------------------------------------------------------------------------
# the package
# --------------------------------------------------------------------------------------------
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_XF = '<xf numFmtId="{}" fontId="{}" fillId="{}" borderId="{}" xfId="0"{}/>'
_STYLES = (
    _XML + f'<styleSheet xmlns="{_NS}">'
    '<numFmts count="4"><numFmt numFmtId="164" formatCode="0.0%"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="167" formatCode="hh:mm"/></numFmts>'
    f'<fonts count="3"><font>{_FONT}</font><font><b/>{_FONT}</font>'
    '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills><borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border>'
    + "".join(f'<{side} style="thin"><color rgb="FF808080"/></{side}>' for side in ("left", "right", "top", "bottom"))
    + '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="12">'
    + _XF.format(0, 0, 0, 0, "")
    + '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" '
      'applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>'
    + "".join(_XF.format(f, 0, 0, 0, ' applyNumberFormat="1"') for f in (49, 1, 164, 2, 165, 166, 167))
    + _XF.format(0, 0, 0, 0, ' quotePrefix="1"')
    + _XF.format(49, 0, 0, 0, ' applyNumberFormat="1" quotePrefix="1"')
    + _XF.format(0, 2, 0, 0, ' applyFont="1"')
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)
_TYPE = "application/vnd.openxmlformats-officedocument."
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _letter(n: int) -> str:
    """Column letter of the 1-based column `n` (1 → A, 27 → AA)."""
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _text(s: str) -> str:
    return escape(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", s)).replace("\r", "&#13;")


def _inline(ref: str, text: str, style: int) -> str:
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}{attrs(style)} t="inlineStr"><is><t{space}>{_text(text)}</t></is></c>'


def _hf_escape(text: str) -> str:
    """Header/footer text: '&' starts a control code in Excel, so double it."""
    return str(text).replace("&", "&&")


@dataclass
class _Sheet:
    title: str
    filter_ref: str


class WorkbookWriter:
    """Builds one .xlsx file sheet by sheet; see the module docstring. Opened inside a
    `workbook_batch`, it keeps its tables and is written when the batch ends (`printed` is None
    until then)."""

    def __init__(self, path: str | os.PathLike, *, kind: str | None = None):
        self.path = Path(path)
        self.kind = kind or self.path.name
        self.rows = 0
        self.printed: PrintedFile | None = None
        self.sheets: list[_Sheet] = []  # written so far (read by the module's sheet writer)
        self._buffer: Any = None
        self._zip: zipfile.ZipFile | None = None
        self.batch_of = _BATCH.get()  # the workbook_batch this writer belongs to, if any
        self.queue: collections.deque[_Table] = collections.deque()  # tables kept for the batch
        self.saved = False  # save() was called (in a batch: write when the batch ends)
        if self.batch_of is not None:
            self.batch_of.writers.append(self)

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> "WorkbookWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.save()
        else:
            self.discard()

    def discard(self) -> None:
        """Drop what was written (an anonymous temporary file) and leave the batch."""
        if self.batch_of is not None:
            self.batch_of.writers.remove(self)
            self.batch_of = None
        if self._zip is not None:
            with contextlib.suppress(Exception):
                self._zip.close()
            self._buffer.close()

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
        links: Mapping[str | int, Sequence[str | None]] | None = None,
        below: Sequence[str] = (),
    ) -> None:
        """Write a table on a new sheet. `data`: a polars DataFrame, a list of mappings, or a list
        of sequences (then `columns` is required; `Column.key` may be the index). `title` prints
        in the page header; `page_breaks_before` are 0-based data-row indices that start a new
        printed page (e.g. one room per page); `links` maps a column key to each row's link
        target (None: no link); `below` are text lines printed beneath the table."""
        if not isinstance(data, pl.DataFrame):
            data = data if isinstance(data, list) else list(data)
        cols = resolved_columns(data, columns or ())
        if not cols:
            raise ValueError(f"sheet {name!r}: no columns")
        n = len(data)
        link_series = {k: pl.Series(list(v), dtype=pl.String) for k, v in (links or {}).items()}
        self._add(_Table(data, cols, pl.zeros(n, pl.UInt32, eager=True), [name], [title], landscape, footer_note,
                         tuple(below), [i + 1 for i in sorted(set(page_breaks_before)) if 0 < i < n], link_series))

    def add_sheets(self, data: pl.DataFrame, columns: Sequence[Column], *, sheet: str, names: Sequence[str],
                   titles: Sequence[str | None] | None = None, landscape: bool | None = None) -> None:
        """One sheet per name: the rows whose column `sheet` holds the name's index (0, 1, …), in
        frame order. Converts every sheet in one pass, e.g. the grade's sheet and one per class."""
        order = data[sheet].cast(pl.UInt32)
        if not order.is_sorted():
            data = data.sort(sheet, maintain_order=True)
            order = data[sheet].cast(pl.UInt32)
        self._add(_Table(data, resolved_columns(data, columns), order, list(names),
                         list(titles) if titles is not None else [None] * len(names), landscape))

    def _add(self, table: "_Table") -> None:
        """Write the table's sheets now, or keep them for the batch this writer belongs to."""
        if self.batch_of is not None:
            self.queue.append(table)
        else:
            _write_tables([self], [table])

    def archive(self) -> zipfile.ZipFile:
        if self._zip is None:
            # anonymous (no name in the folder) and readable by the owner only
            self._buffer = tempfile.TemporaryFile(dir=ensure_owner_only_dir(self.path.parent))
            self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION)
        return self._zip

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> PrintedFile:
        if self.printed is not None or self.batch_of is not None:
            self.saved = True
            return self.printed  # type: ignore[return-value]  # in a batch: None until the batch ends
        if not self.sheets:
            self.add_table("空", [], [Column(0, "（无数据）")])
        archive = self.archive()
        sheets = "".join(f'<sheet name={quoteattr(s.title)} sheetId="{i}" r:id="rId{i}"/>'
                         for i, s in enumerate(self.sheets, start=1))
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">{_text(_ref(s.title))}!'
            f'{_absolute(s.filter_ref)}</definedName>'
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{_text(_ref(s.title))}!$1:$1</definedName>'
            for i, s in enumerate(self.sheets))
        archive.writestr("xl/workbook.xml", f'{_XML}<workbook xmlns="{_NS}" xmlns:r="{_NS_R}"><bookViews>'
                                            f'<workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
                                            f'<definedNames>{names}</definedNames></workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(self.sheets) + 1))
        rels += f'<Relationship Id="rId{len(self.sheets) + 1}" Type="{_REL}styles" Target="styles.xml"/>'
        archive.writestr("xl/_rels/workbook.xml.rels", f'{_XML}<Relationships xmlns="{_NS_PKG}">{rels}</Relationships>')
        archive.writestr("xl/styles.xml", _STYLES)
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        archive.writestr("docProps/core.xml", (
            f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>examflow</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'))
        archive.writestr("_rels/.rels", (
            f'{_XML}<Relationships xmlns="{_NS_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/></Relationships>'))
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                            f'ContentType="{_TYPE}spreadsheetml.worksheet+xml"/>'
                            for i in range(1, len(self.sheets) + 1))
        archive.writestr("[Content_Types].xml", (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'{overrides}</Types>'))
        archive.close()
        self._buffer.seek(0)
        with owner_only_file(self.path) as fh:
            shutil.copyfileobj(self._buffer, fh, 1 << 20)
        self._buffer.close()
        self.printed = PrintedFile(self.path, self.kind, self.rows, sha256_file(self.path))
        return self.printed


class WorkbookBatch:
    """Workbooks opened inside `workbook_batch()`, written together when it ends: alike tables of
    several workbooks (the same columns and print options, e.g. each school's 总分 sheet) are
    converted in one pass, as one table of many sheets, instead of one pass each. The files are
    those each workbook would have been alone. `printed`: the files, in the order opened."""

    def __init__(self) -> None:
        self.writers: list[WorkbookWriter] = []
        self.printed: list[PrintedFile] = []

    def write(self) -> None:
        """Each round writes the first table of as many workbooks as have an alike one first."""
        writers = list(self.writers)
        try:
            while heads := [w for w in writers if w.queue]:
                alike: dict[tuple, list[WorkbookWriter]] = {}
                for w in heads:
                    alike.setdefault(w.queue[0].same_as(), []).append(w)
                group = max(alike.values(), key=len)
                _write_tables(group, [w.queue.popleft() for w in group])
            for w in writers:
                w.batch_of = None
                if w.saved:
                    self.printed.append(w.save())
                else:  # opened but never saved: as a writer left without save()
                    w.discard()
        except BaseException:
            for w in writers:
                w.batch_of = None
                w.discard()
            raise
        finally:
            self.writers.clear()


_BATCH: contextvars.ContextVar[WorkbookBatch | None] = contextvars.ContextVar("workbook_batch", default=None)


@contextlib.contextmanager
def workbook_batch() -> Iterator[WorkbookBatch]:
    """Write the workbooks opened in the block together when it ends (`WorkbookBatch`); on an
    exception none is written."""
    batch = WorkbookBatch()
    token = _BATCH.set(batch)
    try:
        yield batch
    except BaseException:
        for w in list(batch.writers):
            w.discard()
        raise
    finally:
        _BATCH.reset(token)
    batch.write()


def _write(cols: list[Column], typed: list[list[pl.Series]], sheet_of: pl.Series, names: list[str],
           titles: list[str | None], *, writers: Sequence[WorkbookWriter], landscape: bool | None,
           breaks: Sequence[int] = (), footer_note: str | None = None,
           links: Mapping[str | int, pl.Series] | None = None, below: Sequence[str] = ()) -> None:
    """Write the sheets `names` (their rows: where `sheet_of` is the name's index, in order), sheet
    k into `writers[k]`: every cell's XML by polars expressions over the typed series, widths per
    sheet, then each sheet's part of its zip. `links` and `breaks` come with one sheet only."""
    n, ncols = len(sheet_of), len(cols)
    letters = [_letter(j) for j in range(1, ncols + 1)]
    position = sheet_of.to_frame("s").select(pl.int_range(pl.len()).over("s")).to_series()
    counts = sheet_of.value_counts().sort(sheet_of.name) if n else None
    sizes = dict(zip(*counts.get_columns())) if counts is not None else {}

    # the cells of every row, as one XML string per row
    prep: dict[str, pl.Series] = {"r": (position + 2).cast(pl.String)}
    cells = []
    for j, (c, parts) in enumerate(zip(cols, typed)):
        link = (links or {}).get(c.key)
        frags = []
        for p, s in enumerate(parts):
            part = cell_xml(s, c.kind, link if s.dtype == pl.String else None)
            prep[f"v{j}.{p}"] = part.content
            if isinstance(part.head, pl.Series):
                prep[f"h{j}.{p}"] = part.head
                head = pl.col(f"h{j}.{p}")
            else:
                head = pl.lit(part.head)
            frags.append(pl.concat_str([pl.lit(f'<c r="{letters[j]}'), pl.col("r"), head, pl.col(f"v{j}.{p}"),
                                        pl.lit(part.tail)]))
        if frags:
            cells.append((frags[0] if len(frags) == 1 else pl.coalesce(frags)).fill_null(""))
    row = pl.concat_str([pl.lit('<row r="'), pl.col("r"), pl.lit('">'), *cells, pl.lit("</row>")])
    frame = pl.DataFrame(prep)

    # widths: the header and the first WIDTH_SAMPLE rows of each sheet
    sample = position < WIDTH_SAMPLE
    in_sample = sheet_of.filter(sample)
    widest: dict[int, dict[int, int]] = {}
    for j, (c, parts) in enumerate(zip(cols, typed)):
        if c.width is None:
            for s in parts:
                for k, w in value_widths(s.filter(sample), in_sample, c.kind):
                    mine = widest.setdefault(k, {})
                    mine[j] = max(mine.get(j, 0), w)

    targets = [(f"{letters[j]}{i + 2}", t) for j, c in enumerate(cols) if links and c.key in links
               for i, t in enumerate(links[c.key].to_list()) if t]
    chunk: tuple[int, pl.Series] | None = None  # (first row, the rows' XML) of CHUNK_ROWS rows at a time
    start = 0
    for k, name in enumerate(names):
        size = sizes.get(k, 0)
        found = widest.get(k, {})
        widths = []
        for j, c in enumerate(cols):
            if c.width is not None:
                widths.append(float(c.width))
            else:
                w = max(display_width(c.header), found.get(j, 0))
                widths.append(min(MAX_WIDTH, max(MIN_WIDTH, w + 2.5)))
        wide = sum(widths) > LANDSCAPE_ABOVE if landscape is None else landscape
        book = writers[k]
        title = sheet_title(name, [s.title for s in book.sheets])
        filter_ref = f"A1:{letters[-1]}{max(1, size + 1)}"
        book.sheets.append(_Sheet(title, filter_ref))
        last_row = size + 1 + (len(below) + 1 if below else 0)
        number = len(book.sheets)
        with book.archive().open(f"xl/worksheets/sheet{number}.xml", "w") as fh:
            fh.write(_sheet_head(widths, f"A1:{letters[-1]}{last_row}", number == 1).encode())
            fh.write(('<row r="1">' + "".join(_inline(f"{letters[j]}1", str(c.header), HEADER)
                                              for j, c in enumerate(cols)) + "</row>").encode())
            pos, stop = start, start + size
            while pos < stop:
                if chunk is None or not chunk[0] <= pos < chunk[0] + len(chunk[1]):
                    chunk = (pos, frame.slice(pos, CHUNK_ROWS).select(row).to_series())
                end = min(stop, chunk[0] + len(chunk[1]))
                fh.write("".join(chunk[1].slice(pos - chunk[0], end - pos).to_list()).encode())
                pos = end
            for i, line in enumerate(below, start=size + 3):
                style = QUOTED if is_formula_like(line) else PLAIN
                fh.write(f'<row r="{i}">{_inline(f"A{i}", line, style)}</row>'.encode())
            fh.write(_sheet_tail(filter_ref, [ref for ref, _t in targets], wide, titles[k], footer_note,
                                 breaks).encode())
        if targets:
            rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}hyperlink" Target={quoteattr(t)} '
                           'TargetMode="External"/>' for i, (_ref, t) in enumerate(targets, start=1))
            book.archive().writestr(f"xl/worksheets/_rels/sheet{number}.xml.rels",
                                     f'{_XML}<Relationships xmlns="{_NS_PKG}">{rels}</Relationships>')
        start += size
        book.rows += size


def _ref(title: str) -> str:
    """A sheet name as formulas quote it."""
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    """A1:G6 → $A$1:$G$6."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))


def _sheet_head(widths: Sequence[float], dimension: str, selected: bool) -> str:
    cols = "".join(f'<col min="{j}" max="{j}" width="{w:.16g}" customWidth="1"/>' for j, w in enumerate(widths, 1))
    return (f'{_XML}<worksheet xmlns="{_NS}" xmlns:r="{_NS_R}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<dimension ref="{dimension}"/><sheetViews><sheetView workbookViewId="0"'
            f'{" tabSelected=" + chr(34) + "1" + chr(34) if selected else ""}>'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')


def _sheet_tail(filter_ref: str, links: Sequence[str], landscape: bool, title: str | None,
                footer_note: str | None, breaks: Sequence[int]) -> str:
    out = [f'</sheetData><autoFilter ref="{filter_ref}"/>']
    if links:
        out.append("<hyperlinks>" + "".join(f'<hyperlink ref="{ref}" r:id="rId{i}"/>'
                                            for i, ref in enumerate(links, start=1)) + "</hyperlinks>")
    out.append('<printOptions horizontalCentered="1"/>'
               '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
               f'<pageSetup paperSize="9" orientation="{"landscape" if landscape else "portrait"}" fitToWidth="1" '
               'fitToHeight="0"/><headerFooter>')
    if title:
        out.append(f"<oddHeader>{_text('&C' + _hf_escape(title))}</oddHeader>")
    footer = ("&L" + _hf_escape(footer_note) if footer_note else "") + "&C第 &P 页 / 共 &N 页"
    out.append(f"<oddFooter>{_text(footer)}</oddFooter></headerFooter>")
    if breaks:
        out.append(f'<rowBreaks count="{len(breaks)}" manualBreakCount="{len(breaks)}">'
                   + "".join(f'<brk id="{b}" max="16383" man="1"/>' for b in breaks) + "</rowBreaks>")
    out.append("</worksheet>")
    return "".join(out)


def write_workbook(
    path: str | os.PathLike,
    sheets: Sequence[tuple[str, Any, Sequence[Column] | None]] | Mapping[str, Any],
    *,
    title: str | None = None,
    kind: str | None = None,
) -> PrintedFile:
    """One-call helper: `sheets` is a list of (sheet name, data, columns) or a mapping
    {sheet name: DataFrame}. Returns the PrintedFile."""
    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    with WorkbookWriter(path, kind=kind) as wb:
        for entry in items:
            name, data = entry[0], entry[1]
            cols = entry[2] if len(entry) > 2 else None
            wb.add_table(name, data, cols, title=title)
    return wb.printed  # type: ignore[return-value]
