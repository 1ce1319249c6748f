"""Read any accepted table file (CSV in UTF-8/GBK/GB18030 with `,` `\\t` `;`, or XLSX with title
rows and merged headers) into a frame of strings that keeps the spreadsheet row numbers.

Header recognition is driven by `data_contracts/aliases.yaml`: the first row that carries every
required column of a kind is that kind's header.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from examflow import yamlfile
from examflow.errors import ContractError

CONTRACTS = Path(__file__).resolve().parent.parent / "data_contracts"
HEADER_SEARCH_ROWS = 30
_SPACES = re.compile(r"[\s\u3000_\-]+")


def norm_header(text: object) -> str:
    """Header text as matched against aliases: case-, space-, underscore- and hyphen-insensitive."""
    return _SPACES.sub("", str(text or "")).lower()


@functools.cache
def _aliases_file() -> dict:
    return yamlfile.read(CONTRACTS / "aliases.yaml")


@functools.cache
def aliases() -> dict:
    """Column aliases per table kind (header recognition)."""
    spec = {kind: dict(v) for kind, v in _aliases_file().items() if kind != "values"}
    for kind in spec.values():
        kind["lookup"] = {norm_header(a): col for col, names in kind["columns"].items() for a in names}
    return spec


@functools.cache
def value_aliases() -> tuple[dict, ...]:
    """The `values:` aliases as rows (kind, alias, value, contains, priority) for staging.aliases:
    alias lower-cased; `*x*` becomes alias x with contains; priority is the value's position in
    its kind (the first listed wins where several match). An exact alias naming two values is an error."""
    rows, seen = [], {}
    for kind, values in _aliases_file()["values"].items():
        for priority, (value, names) in enumerate(values.items()):
            for name in names:
                text = str(name).strip().lower()
                contains = len(text) > 2 and text.startswith("*") and text.endswith("*")
                alias = text[1:-1] if contains else text
                if not contains and seen.setdefault((kind, alias), value) != value:
                    raise ValueError(f"aliases.yaml: {kind} alias {name!r} names both {seen[(kind, alias)]} and {value}")
                rows.append({"kind": kind, "alias": alias, "value": str(value), "contains": contains,
                             "priority": priority})
    return tuple(rows)


def alias_names(kind: str) -> dict[str, str]:
    """Exact alias -> canonical value of one kind of `values:` (canonical names included)."""
    return {r["alias"]: r["value"] for r in value_aliases() if r["kind"] == kind and not r["contains"]}


@dataclass
class Table:
    """One file's header and body. Body columns are `c0..cN` (strings) plus `source_row`."""

    path: Path
    name: str  # the path as shown in messages and lineage (relative to the exam folder)
    kind: str
    header: list[str]
    header_row: int  # 1-based, as a spreadsheet shows it
    body: pl.DataFrame
    sha256: str
    columns: dict[str, str] = field(default_factory=dict)  # canonical name -> body column
    subjects: list[str] = field(default_factory=list)  # subject codes the file holds, once known

    def col(self, canonical: str) -> str | None:
        return self.columns.get(canonical)

    def column_label(self, body_col: str) -> str:
        return self.header[int(body_col[1:])]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _line_chunks(data: bytes, start: int = 0, size: int = 1 << 24):
    """(offset, view) pieces of about `size` bytes that end at a newline: a newline byte never sits
    inside a UTF-8 or GB18030 character, so each piece decodes on its own."""
    view = memoryview(data)
    while start < len(data):
        end = data.find(b"\n", start + size)
        end = len(data) if end < 0 else end + 1
        yield start, view[start:end]
        start = end


def utf8(data: bytes, name: str) -> bytes:
    """The file as UTF-8: UTF-8 (BOM or not) as it is, else GB18030 (a superset of GBK and GB2312)
    transcoded; never lossy. Decoded piece by piece, so a large file never exists as one Python str."""
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        for _, piece in _line_chunks(data, skip):
            str(piece, "utf-8")
        return data
    except UnicodeDecodeError:
        pass
    out = []
    for start, piece in _line_chunks(data, skip):
        try:
            out.append(str(piece, "gb18030").encode("utf-8"))
        except UnicodeDecodeError as e:
            raise ContractError(f"cannot be decoded as UTF-8, GBK or GB18030 (byte {start - skip + e.start}); "
                                "save it as UTF-8 or GBK CSV", name) from None
    return b"".join(out)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        first = next((line for line in sample.splitlines() if line.strip()), "")
        return max(",\t;", key=first.count)


def _cell_text(value: object) -> str | None:
    """A spreadsheet cell (as openpyxl reads it) as the text a person sees: 5.0 -> '5', True -> '1'.
    `_xlsx_body` renders the body's cells the same way, plus the zeros of zero-padded number formats."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _match_kind(row: list[str | None], kinds: list[str]) -> str | None:
    normed = {norm_header(c) for c in row if c}
    for kind in kinds:
        spec = aliases()[kind]
        found = {spec["lookup"][h] for h in normed if h in spec["lookup"]}
        if set(spec["required"]) <= found:
            return kind
    return None


def _map_columns(header: list[str], kind: str) -> dict[str, str]:
    lookup = aliases()[kind]["lookup"]
    cols: dict[str, str] = {}
    for i, h in enumerate(header):
        canonical = lookup.get(norm_header(h))
        if canonical and canonical not in cols:
            cols[canonical] = f"c{i}"
    return cols


def read_table(path: Path, name: str, kinds: list[str]) -> Table:
    """Read `path` as the first of `kinds` whose header is found; ContractError otherwise."""
    data = path.read_bytes()
    sha = file_sha256(data)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, header_row, kind, body = _read_xlsx(path, name, kinds)
    elif suffix in (".csv", ".txt", ".tsv"):
        header, header_row, kind, body = _read_csv(utf8(data, name), name, kinds)
    else:
        raise ContractError(f"unsupported file type {suffix!r} (CSV or XLSX expected)", name)
    blank = body.select(pl.all_horizontal(pl.exclude("source_row").is_null()).alias("blank"))["blank"]
    if blank.any():  # filtering copies every column: only when there is a blank row to drop
        body = body.filter(~blank)
    return Table(path, name, kind, header, header_row, body, sha, _map_columns(header, kind))


def _no_header(name: str, kinds: list[str]) -> ContractError:
    wanted = "; ".join(
        f"{k}: " + ", ".join("/".join(aliases()[k]["columns"][c][:2]) for c in aliases()[k]["required"]) for k in kinds
    )
    return ContractError(f"no recognisable header in the first {HEADER_SEARCH_ROWS} rows (expected {wanted})", name)


def _head_lines(data: bytes, count: int) -> list[str]:
    """The first `count` lines, decoding only them rather than the whole file."""
    end = -1
    for _ in range(count):
        end = data.find(b"\n", end + 1)
        if end < 0:
            break
    return (data if end < 0 else data[:end]).decode("utf-8-sig").splitlines()[:count]


def _read_csv(data: bytes, name: str, kinds: list[str]) -> tuple[list[str], int, str, pl.DataFrame]:
    head_lines = _head_lines(data, HEADER_SEARCH_ROWS + 5)
    delimiter = _sniff_delimiter("\n".join(head_lines[:20]))
    reader = csv.reader(io.StringIO("\n".join(head_lines)), delimiter=delimiter)
    for idx, row in enumerate(reader):
        if idx >= HEADER_SEARCH_ROWS:
            break
        kind = _match_kind(row, kinds)
        if kind:
            header_line = reader.line_num  # 1-based line of the header's last line
            header = [c.strip() for c in row]
            break
    else:
        raise _no_header(name, kinds)
    schema = {f"c{i}": pl.String for i in range(len(header))}
    try:
        body = pl.read_csv(
            data,
            has_header=False,
            skip_rows=header_line,
            separator=delimiter,
            schema=schema,
            truncate_ragged_lines=True,
            missing_columns="insert",
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as e:
        raise ContractError(f"not a readable CSV table: {e}", name) from None
    # values are stripped and empty ones made null; columns that need neither are kept as read, not copied
    padded = body.select((pl.col(c).str.contains(r"^\s|\s$") | (pl.col(c) == "")).any() for c in schema).row(0)
    body = body.with_columns(pl.col(c).str.strip_chars().replace("", None) for c, dirty in zip(schema, padded) if dirty)
    return header, header_line, kind, body.with_row_index("source_row", offset=header_line + 1).with_columns(
        pl.col("source_row").cast(pl.Int64))


def _read_xlsx(path: Path, name: str, kinds: list[str]) -> tuple[list[str], int, str, pl.DataFrame]:
    """The header (title rows, merged cells) from openpyxl's streaming reader, which stops after the
    first rows; the body from calamine (fastexcel), ~50x faster than openpyxl on the whole sheet."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        parts = _sheet_parts(path)
        try:
            found = next(((ws.title, *h) for ws in wb.worksheets
                          if (h := _xlsx_header(ws, kinds, _merged_ranges(path, parts.get(ws.title))))), None)
        finally:
            wb.close()
        if found is None:
            raise _no_header(name, kinds)
        sheet, header, header_row, kind, formats = found
        return header, header_row, kind, _xlsx_body(path, sheet, header_row, len(header), formats)
    except ContractError:
        raise
    except Exception as e:  # openpyxl and calamine raise many types for a damaged file
        raise ContractError(f"not a readable XLSX workbook: {e}", name) from None


def _xlsx_header(ws, kinds: list[str], merged: list[tuple[int, int, int, int]]
                 ) -> tuple[list[str], int, str, list[str | None]] | None:
    """Find the header row, forward-filling merged ranges; a horizontally merged group header
    over a row of sub-headers (客观题 over 1, 2, 3) makes a two-row header. Also returns the number
    formats of the first body row (zero-padded exam numbers)."""
    ws.reset_dimensions()  # a wrong <dimension> would cut the rows short
    cells = list(itertools.islice(ws.iter_rows(), HEADER_SEARCH_ROWS + 2))
    top = min(len(cells), HEADER_SEARCH_ROWS + 1)
    grid = [[_cell_text(c.value) for c in row] for row in cells[:top]]
    width = max((len(r) for r in grid), default=0)
    grid = [r + [None] * (width - len(r)) for r in grid]
    groups = []
    for min_col, min_row, max_col, max_row in merged:
        if min_row > top:
            continue
        value = grid[min_row - 1][min_col - 1] if min_col <= width else None
        for r in range(min_row, min(max_row, top) + 1):
            for c in range(min_col, min(max_col, width) + 1):
                grid[r - 1][c - 1] = value
        if min_row == max_row and max_col > min_col:
            groups.append((min_col, min_row, max_col))
    for idx, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        kind = _match_kind(row, kinds)
        if not kind:
            continue
        header_row, header = idx + 1, list(row)
        grouped = [g for g in groups if g[1] == header_row]
        if grouped and idx + 1 < len(grid):
            sub = grid[idx + 1]
            if all(sub[c - 1] for g in grouped for c in range(g[0], g[2] + 1)):
                for g in grouped:
                    for c in range(g[0], g[2] + 1):
                        header[c - 1] = sub[c - 1]
                header_row += 1
        while header and header[-1] is None:
            header.pop()
        first = cells[header_row] if header_row < len(cells) else ()
        formats = [getattr(c, "number_format", None) for c in first]
        return [h or "" for h in header], header_row, kind, formats
    return None


_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet title -> its XML part inside the workbook's zip package, read from the package's own
    relationships (the main part, then its sheets), whatever namespace flavour wrote them."""
    import posixpath
    import xml.etree.ElementTree as ET
    import zipfile

    def resolve(folder: str, target: str) -> str:
        """A relationship's target as a path in the package (absolute targets start with /)."""
        return target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))

    def rels(z: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        root = ET.fromstring(z.read(posixpath.join(folder, "_rels", name + ".rels")))
        return {r.get("Id"): (r.get("Type") or "", resolve(folder, r.get("Target") or "")) for r in root}

    with zipfile.ZipFile(path) as z:
        main = next(t for kind, t in rels(z, "").values() if kind.endswith("/officeDocument"))
        targets = rels(z, main)
        out = {}
        for el in ET.fromstring(z.read(main)).iter():
            if el.tag.rpartition("}")[2] == "sheet":
                rid = next((v for k, v in el.attrib.items() if k.rpartition("}")[2] == "id"), None)
                if rid in targets:
                    out[el.get("name")] = targets[rid][1]
        return out


def _merged_ranges(path: Path, part: str | None) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of the sheet's merged cells. openpyxl's read-only sheets do
    not expose them; they follow the cell data in the sheet XML (`part`, from _sheet_parts), scanned here in chunks."""
    import zipfile

    from openpyxl.utils.cell import range_boundaries

    if part is None:
        return []
    with zipfile.ZipFile(path) as z, z.open(part) as f:
        carry = b""
        while chunk := f.read(1 << 20):
            chunk = carry + chunk
            at = chunk.find(b"mergeCells")
            if at >= 0:
                rest = chunk[at:] + f.read()
                return [range_boundaries(ref.decode()) for ref in _MERGE_CELL.findall(rest)]
            carry = chunk[-16:]
    return []


_XLSX_ERRORS = {"Div0": "#DIV/0!", "NA": "#N/A", "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!",
                "Ref": "#REF!", "Value": "#VALUE!"}
_DATETIME_TEXT = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"


def _xlsx_body(path: Path, sheet: str, header_row: int, width: int, formats: list[str | None]) -> pl.DataFrame:
    """The rows under the header as the text openpyxl's values gave through `_cell_text`.

    calamine renders every cell as text in Rust (12.0 -> "12"); the few cell types it renders
    differently (booleans, dates, error values) are told apart by re-reading only the columns whose
    text could come from one, and zero-padded number formats are applied to integer texts."""
    import fastexcel

    reader = fastexcel.read_excel(path)
    names = [f"c{i}" for i in range(width)]
    try:
        loaded = reader.load_sheet(sheet, header_row=None, skip_rows=header_row, dtypes="string",
                                   whitespace_as_null=True)
    except fastexcel.InvalidParametersError:  # nothing under the header
        return pl.DataFrame(schema={**dict.fromkeys(names, pl.String), "source_row": pl.Int64})
    batch, errors = loaded.to_arrow_with_errors()
    columns = {c.index: c for c in loaded.available_columns()}
    body = pl.DataFrame(batch).rename({c.name: f"c{c.absolute_index}" for c in columns.values()})
    failed: dict[str, tuple[list[int], list[str]]] = {}  # error values (#N/A): openpyxl gives their text
    for e in errors.errors if errors else ():
        if code := re.search(r"Error\((\w+)\)", e.detail):
            rows, texts = failed.setdefault(f"c{columns[e.position[1]].absolute_index}", ([], []))
            rows.append(e.position[0] - header_row)
            texts.append(_XLSX_ERRORS.get(code[1], f"#{code[1].upper()}"))
    body = body.with_columns(body[c].scatter(rows, texts) for c, (rows, texts) in failed.items())
    body = body.select(pl.col(n) if n in body.columns else pl.lit(None, pl.String).alias(n) for n in names)
    body = body.with_columns(
        pl.when(pl.col(n).str.contains(r"^-?\d+$")).then(pl.col(n).str.zfill(len(f))).otherwise(pl.col(n))
        for n, f in zip(names, formats) if f and re.fullmatch(r"0+", f))
    body = _typed_cells(reader, sheet, header_row, body)
    return body.with_columns(source_row=pl.int_range(header_row + 1, header_row + 1 + body.height, dtype=pl.Int64))


def _typed_cells(reader, sheet: str, header_row: int, body: pl.DataFrame) -> pl.DataFrame:
    """Booleans and dates as `_cell_text` renders openpyxl's values. Only columns whose text could
    come from one are re-read: only a boolean cell reads as a number and as "true"/"false", only a
    date cell reads as a duration."""
    flags = body.select(
        *[pl.col(n).is_in(["true", "false"]).any().alias(f"float {n}") for n in body.columns],
        *[pl.col(n).str.contains(_DATETIME_TEXT).any().alias(f"duration {n}") for n in body.columns]).row(0, named=True)
    for dtype in ("float", "duration"):
        picked = [n for n in body.columns if flags[f"{dtype} {n}"]]
        if not picked:
            continue
        typed = pl.DataFrame(reader.load_sheet(sheet, header_row=None, skip_rows=header_row, dtypes=dtype,
                                               use_columns=[int(n[1:]) for n in picked]).to_arrow())
        body = body.with_columns(typed.to_series(i).alias(f"__{n}") for i, n in enumerate(picked))
        body = body.with_columns(_typed_text(pl.col(n), pl.col(f"__{n}"), dtype).alias(n) for n in picked)
        body = body.drop(f"__{n}" for n in picked)
    return body


def _typed_text(text: pl.Expr, cell: pl.Expr, dtype: str) -> pl.Expr:
    """A boolean as 1/0; a date as ISO text, or the time of day alone below one day (openpyxl's time)."""
    if dtype == "float":
        return pl.when(cell.is_not_null()).then(text.replace({"true": "1", "false": "0"})).otherwise(text)
    stamp = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
    iso = pl.when(cell < pl.duration(days=1)).then(stamp.dt.strftime("%H:%M:%S")).otherwise(
        stamp.dt.strftime("%Y-%m-%dT%H:%M:%S"))
    iso = pl.when(stamp.dt.microsecond() == 0).then(iso).otherwise(iso + stamp.dt.strftime("%.6f"))
    return pl.when(cell.is_not_null()).then(iso).otherwise(text)
