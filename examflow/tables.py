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
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from examflow.errors import ContractError

CONTRACTS = Path(__file__).resolve().parent.parent / "data_contracts"
HEADER_SEARCH_ROWS = 30
_SPACES = re.compile(r"[\s\u3000_\-]+")


def norm_header(text: object) -> str:
    """Header text as matched against aliases: case-, space-, underscore- and hyphen-insensitive."""
    return _SPACES.sub("", str(text or "")).lower()


@functools.cache
def aliases() -> dict:
    with open(CONTRACTS / "aliases.yaml", encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    for kind in spec.values():
        kind["lookup"] = {norm_header(a): col for col, names in kind["columns"].items() for a in names}
    return spec


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


def decode(data: bytes, name: str) -> str:
    """UTF-8 (BOM or not), else GB18030 (a superset of GBK and GB2312); never lossy."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise ContractError(
            f"cannot be decoded as UTF-8, GBK or GB18030 (byte {e.start}); save it as UTF-8 or GBK CSV", name
        ) from None


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        first = next((line for line in sample.splitlines() if line.strip()), "")
        return max(",\t;", key=first.count)


def _cell_text(value: object, number_format: str | None = None) -> str | None:
    """A spreadsheet cell as the text a person sees: 5.0 -> '5', zero-padded ids keep their zeros."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if number_format and re.fullmatch(r"0+", number_format):
            return str(value).zfill(len(number_format))
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
        header, header_row, kind, body = _read_csv(decode(data, name), name, kinds)
    else:
        raise ContractError(f"unsupported file type {suffix!r} (CSV or XLSX expected)", name)
    body = body.filter(~pl.all_horizontal(pl.exclude("source_row").is_null()))
    return Table(path, name, kind, header, header_row, body, sha, _map_columns(header, kind))


def _no_header(name: str, kinds: list[str]) -> ContractError:
    wanted = "; ".join(
        f"{k}: " + ", ".join("/".join(aliases()[k]["columns"][c][:2]) for c in aliases()[k]["required"]) for k in kinds
    )
    return ContractError(f"no recognisable header in the first {HEADER_SEARCH_ROWS} rows (expected {wanted})", name)


def _read_csv(text: str, name: str, kinds: list[str]) -> tuple[list[str], int, str, pl.DataFrame]:
    head_lines = text.splitlines()[: HEADER_SEARCH_ROWS + 5]
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
            io.BytesIO(text.encode("utf-8")),
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
    body = body.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in schema
    ).with_row_index("source_row", offset=header_line + 1)
    return header, header_line, kind, body.with_columns(pl.col("source_row").cast(pl.Int64))


def _read_xlsx(path: Path, name: str, kinds: list[str]) -> tuple[list[str], int, str, pl.DataFrame]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged file
        raise ContractError(f"not a readable XLSX workbook: {e}", name) from None
    for ws in wb.worksheets:
        found = _xlsx_header(ws, kinds)
        if found:
            break
    else:
        raise _no_header(name, kinds)
    header, header_row, kind = found
    width = len(header)
    fmts = [ws.cell(row=header_row + 1, column=i + 1).number_format for i in range(width)]
    rows, numbers = [], []
    for r, values in enumerate(ws.iter_rows(min_row=header_row + 1, max_col=width, values_only=True), header_row + 1):
        rows.append([_cell_text(v, fmts[i]) for i, v in enumerate(values)] + [None] * (width - len(values)))
        numbers.append(r)
    body = pl.DataFrame(rows, schema={f"c{i}": pl.String for i in range(width)}, orient="row")
    return header, header_row, kind, body.with_columns(source_row=pl.Series(numbers, dtype=pl.Int64))


def _xlsx_header(ws, kinds: list[str]) -> tuple[list[str], int, str] | None:
    """Find the header row, forward-filling merged ranges; a horizontally merged group header
    over a row of sub-headers (客观题 over 1, 2, 3) makes a two-row header."""
    top = min(ws.max_row or 0, HEADER_SEARCH_ROWS + 1)
    grid = [[_cell_text(v) for v in row] for row in ws.iter_rows(min_row=1, max_row=top, values_only=True)]
    width = max((len(r) for r in grid), default=0)
    grid = [r + [None] * (width - len(r)) for r in grid]
    groups = []
    for rng in ws.merged_cells.ranges:
        if rng.min_row > top:
            continue
        value = grid[rng.min_row - 1][rng.min_col - 1]
        for r in range(rng.min_row, min(rng.max_row, top) + 1):
            for c in range(rng.min_col, min(rng.max_col, width) + 1):
                grid[r - 1][c - 1] = value
        if rng.min_row == rng.max_row and rng.max_col > rng.min_col:
            groups.append(rng)
    for idx, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        kind = _match_kind(row, kinds)
        if not kind:
            continue
        header_row, header = idx + 1, list(row)
        grouped = [g for g in groups if g.min_row == header_row]
        if grouped and idx + 1 < len(grid):
            sub = grid[idx + 1]
            if all(sub[c - 1] for g in grouped for c in range(g.min_col, g.max_col + 1)):
                for g in grouped:
                    for c in range(g.min_col, g.max_col + 1):
                        header[c - 1] = sub[c - 1]
                header_row += 1
        while header and header[-1] is None:
            header.pop()
        return [h or "" for h in header], header_row, kind
    return None
