"""The cells of a worksheet (examflow.printing.excel): a table's values as typed polars series, and
each series as its cells' SpreadsheetML, a column at a time. Python sees only each column's
distinct floats (for Python's own `round` and the "%.16g" text openpyxl wrote) and distinct texts
(for their display width); `Column` says where a column's values come from and how they print."""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import polars as pl

__all__ = ["COLUMN_KINDS", "Column", "Part", "attrs", "cell_xml", "display_width", "is_formula_like", "resolved_columns",
           "typed_columns", "value_widths", "PLAIN", "HEADER", "TEXT_ID", "INT", "RATE", "DECIMAL", "DATE", "DATETIME",
           "TIME", "QUOTED", "QUOTED_ID", "LINK"]

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
_FORMULA_RE = r"^[=+\-@\t\r]"
_ILLEGAL_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"

# cell styles: indices into the cellXfs of the workbook's styles part (excel._STYLES, in this order)
PLAIN, HEADER, TEXT_ID, INT, RATE, DECIMAL, DATE, DATETIME, TIME, QUOTED, QUOTED_ID, LINK = range(12)
_NUMBER_STYLE = {"int": INT, "rank": INT, "score": PLAIN, "rate": RATE, "decimal": DECIMAL, "text": PLAIN}
_TEMPORAL_STYLE = {"date": DATE, "datetime": DATETIME, "time": TIME}
_EPOCH = dt.datetime(1899, 12, 30)


@dataclass(frozen=True)
class Column:
    """One column of a table: where its value comes from, its Chinese header, its kind."""

    key: str | int  # key in a row mapping / DataFrame column name, or index in a row sequence
    header: str
    kind: str = "text"
    width: float | None = None  # Excel width units; None = fit the content
    otherwise: str | int | None = None  # key of a text printed where the value is missing

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


_DTYPES = {"int": pl.Int64, "float": pl.Float64, "str": pl.String, "bool": pl.Boolean, "date": pl.Date,
           "datetime": pl.Datetime("us"), "time": pl.Time}


def _family(v: Any, kind: str) -> tuple[str, Any]:
    """How one Python value is written in a column of `kind`: (family, value)."""
    if kind in _NUMERIC:
        if isinstance(v, bool):
            return "int", int(v)
        if isinstance(v, int):
            return "int", v
        if isinstance(v, float):
            return "float", v
        return "str", str(v)
    if kind in _TEMPORAL_STYLE:
        if isinstance(v, dt.datetime):
            return "datetime", v
        if isinstance(v, dt.date):
            return "date", v
        if isinstance(v, dt.time):
            return "time", v
        return "str", str(v)
    if isinstance(v, str):
        return "str", v
    if kind == "id":
        return "str", str(v)
    if isinstance(v, bool):
        return "bool", v
    if isinstance(v, int):
        return "int", v
    if isinstance(v, float):
        return "float", v
    if isinstance(v, dt.datetime):
        return "datetime", v
    if isinstance(v, dt.date):
        return "date", v
    if isinstance(v, (list, tuple)):
        return "str", "、".join(str(x) for x in v)
    return "str", str(v)


def _split(values: Sequence[Any], kind: str) -> list[pl.Series]:
    """A column of Python values as typed series, one per family of values (null elsewhere)."""
    types = set(map(type, values)) - {type(None)}
    if types == {str}:  # the common cases at C speed
        return [pl.Series("str", values, dtype=pl.String)]
    if (types == {int} or types == {float}) and (kind in _NUMERIC or kind == "text"):
        return [pl.Series("num", values, dtype=pl.Int64 if int in types else pl.Float64, nan_to_null=True)]
    n = len(values)
    buckets: dict[str, list[Any]] = {}
    for i, v in enumerate(values):
        if v is None or v != v:  # None, NaN
            continue
        fam, v = _family(v, kind)
        bucket = buckets.get(fam)
        if bucket is None:
            bucket = buckets[fam] = [None] * n
        bucket[i] = v
    return [pl.Series(fam, b, dtype=_DTYPES[fam]) for fam, b in buckets.items()]


def _typed(s: pl.Series, kind: str) -> list[pl.Series]:
    """A DataFrame column as typed series (see `_split`); odd dtypes go through Python."""
    d = s.dtype
    if d == pl.Null:
        return []
    if isinstance(d, (pl.Categorical, pl.Enum)):
        s, d = s.cast(pl.String), pl.String
    if d == pl.String:
        return [s]
    numeric_kind = kind in _NUMERIC or kind == "text"
    if numeric_kind and d.is_integer():
        return [s.cast(pl.Int64)]
    if numeric_kind and (d.is_float() or d.is_decimal()):
        return [s.cast(pl.Float64)]
    temporal = (pl.Date, pl.Datetime, pl.Time) if kind in _TEMPORAL_STYLE else (pl.Date, pl.Datetime)
    if (kind in _TEMPORAL_STYLE or kind == "text") and d in temporal:
        return [s]
    return _split(s.to_list(), kind)


def _per_distinct(s: pl.Series, fn: Callable[[Any], Any], dtype) -> pl.Series:
    """`fn` of each value, computed once per distinct value; null stays null."""
    distinct = s.drop_nulls().unique()
    return s.replace_strict(distinct, pl.Series([fn(v) for v in distinct.to_list()], dtype=dtype),
                            default=None, return_dtype=dtype)


def _excel_serial(v: dt.date | dt.datetime | dt.time) -> float:
    """Excel's day number (1900 date system), as openpyxl computes it."""
    if isinstance(v, dt.time):
        return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    if not isinstance(v, dt.datetime):
        v = dt.datetime.combine(v, dt.time())
    days = (v.replace(tzinfo=None) - _EPOCH).days
    if 0 < days <= 60:
        days -= 1
    return days + _excel_serial(v.time())


def _score_text(v: float) -> str:
    r = round(v, 1)
    return str(int(r)) if r.is_integer() else "%.16g" % r


def _float_text(kind: str) -> Callable[[float], str]:
    if kind in ("int", "rank"):
        return lambda v: str(round(v))
    if kind == "score":
        return _score_text
    return lambda v: "%.16g" % v


def attrs(style: int) -> str:
    return f'" s="{style}"' if style else '"'


def _escape(s: pl.Series) -> pl.Series:
    return (s.str.replace_all(_ILLEGAL_XML, "").str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True)
            .str.replace_all("\r", "&#13;", literal=True))


@dataclass
class Part:
    """One typed series of a column as XML: `<c r="A7` + head + content + tail."""

    content: pl.Series
    head: pl.Series | str
    tail: str


def cell_xml(s: pl.Series, kind: str, link: pl.Series | None = None) -> Part:
    d = s.dtype
    if d == pl.String:
        base, quoted = (TEXT_ID, QUOTED_ID) if kind == "id" else (PLAIN, QUOTED)
        style = pl.when(s.str.contains(_FORMULA_RE)).then(pl.lit(attrs(quoted))).otherwise(pl.lit(attrs(base)))
        if link is not None:
            style = pl.when(link.is_not_null()).then(pl.lit(attrs(LINK))).otherwise(style)
        space = pl.when(s.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
        head = pl.select(pl.concat_str([style, pl.lit(' t="inlineStr"><is><t'), space, pl.lit(">")])).to_series()
        return Part(_escape(s), head, "</t></is></c>")
    if d == pl.Boolean:
        return Part(s.cast(pl.Int8).cast(pl.String), '" t="b"><v>', "</v></c>")
    if d == pl.Int64:
        return Part(s.cast(pl.String), attrs(_NUMBER_STYLE[kind]) + "><v>", "</v></c>")
    if d == pl.Float64:
        return Part(_per_distinct(s, _float_text(kind), pl.String), attrs(_NUMBER_STYLE[kind]) + "><v>", "</v></c>")
    style = _TEMPORAL_STYLE.get(kind) or (DATETIME if d == pl.Datetime else DATE)
    return Part(_per_distinct(s, lambda v: "%.16g" % _excel_serial(v), pl.String), attrs(style) + "><v>",
                 "</v></c>")


def value_widths(s: pl.Series, sheet: pl.Series, kind: str) -> list[tuple[int, int]]:
    """(sheet, display width of its widest value as printed), for the sheets with values. Numbers
    print wider the further they are from zero, so only each sheet's extremes are measured."""
    frame = pl.DataFrame({"sheet": sheet, "v": s}).drop_nulls("v")
    if kind in ("date", "datetime"):
        return [(k, 10 if kind == "date" else 16) for k in frame["sheet"].unique().to_list()]
    d = s.dtype
    if kind == "rate" and d in (pl.Int64, pl.Float64, pl.Boolean):
        fn: Callable[[Any], int] = lambda v: len(f"{v * 100:.1f}%")
    elif kind == "score" and d == pl.Float64:
        fn = lambda v: len(str(round(v, 1)))
    elif d == pl.Int64:
        fn = lambda v: len(str(v))
    else:
        widths = frame.with_columns(w=_per_distinct(frame["v"], display_width, pl.Int64))
        return list(widths.group_by("sheet").agg(pl.col("w").max()).iter_rows())
    ends = frame.group_by("sheet").agg(lo=pl.col("v").min(), hi=pl.col("v").max())
    return [(k, max(fn(lo), fn(hi))) for k, lo, hi in ends.iter_rows()]


def _clean(s: pl.Series) -> pl.Series:
    """Empty strings and non-finite floats are no cell."""
    if s.dtype == pl.String:
        return pl.select(pl.when(s != "").then(s)).to_series()
    if s.dtype == pl.Float64:
        return pl.select(pl.when(s.is_finite()).then(s)).to_series()
    return s


def resolved_columns(data: pl.DataFrame | list, columns: Sequence[Column]) -> list[Column]:
    """The table's columns: those given, else the frame's columns or the first mapping's keys."""
    if columns:
        return list(columns)
    if isinstance(data, pl.DataFrame):
        return [Column(c, c) for c in data.columns]
    if data and isinstance(data[0], Mapping):
        return [Column(k, str(k)) for k in data[0].keys()]
    raise ValueError("columns are required for rows given as sequences")


def typed_columns(data: pl.DataFrame | list, cols: Sequence[Column]) -> list[list[pl.Series]]:
    """Each column's typed series."""
    if isinstance(data, pl.DataFrame):
        def get(key: str | int) -> pl.Series:
            return data.get_column(key if isinstance(key, str) else data.columns[key])

        typed = [_typed(get(c.key), c.kind) + (_typed(get(c.otherwise), "text") if c.otherwise is not None else [])
                 for c in cols]
        return [[_clean(s) for s in t] for t in typed]
    mapping = bool(data) and isinstance(data[0], Mapping)

    def values(key: Any) -> list[Any]:
        if mapping:
            return [r.get(key) for r in data]
        return [r[key] if key < len(r) else None for r in data]

    typed = []
    for i, c in enumerate(cols):
        key = c.key if mapping or isinstance(c.key, int) else i
        t = _split(values(key), c.kind)
        if c.otherwise is not None:
            t += _split(values(c.otherwise), "text")
        typed.append([_clean(s) for s in t])
    return typed
