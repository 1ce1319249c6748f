"""Extract templates: one SQL file each under sql/extracts/, its header documenting it and declaring
its parameters (see the package docstring), and the binding of a request's options to them."""
from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import duckdb
import polars as pl

from examflow.extracts.errors import ExtractError, ExtractRefused
from examflow.warehouse import SQL_DIR

EXTRACTS_DIR = SQL_DIR / "extracts"
REQUIRED = object()
MAX_TEXT = 200  # longest text parameter accepted
# numeric parameters' admissible ranges (inclusive); None = unbounded
BOUNDS: dict[str, tuple[float | None, float | None]] = {"min_change": (0, None), "gap": (0.0, 1.0)}


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # text | int | float
    default: Any  # REQUIRED when the parameter has no default
    option: str  # the CLI option, e.g. --min-change
    doc: str

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    sql: str
    path: Path

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def options(self) -> tuple[Param, ...]:
        """The parameters a request chooses (exam and teacher aside)."""
        return tuple(p for p in self.params if p.name not in ("exam_id", "teacher_id"))


_PARAM = re.compile(r'^(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>text|int|float)'
                    r'(?:\s*=\s*(?P<default>"[^"]*"|\S+))?\s+(?P<option>--[a-z][a-z0-9-]*)\s*:\s*(?P<doc>.*)$')
_USED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _default(text: str | None, type_: str) -> Any:
    if text is None:
        return REQUIRED
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    return {"int": int, "float": float}.get(type_, str)(text)


def parse_template(path: Path) -> Template:
    """Read a template file: its header (see the module docstring) and SQL. ValueError when the
    header is malformed or declares other parameters than the SQL uses."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    tags: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        if body.startswith("@"):
            tag, _, rest = body[1:].partition(" ")
            tags.append([tag, rest.strip()])
        elif tags and body:
            tags[-1][1] += " " + body
    fields: dict[str, str] = {}
    params: list[Param] = []
    for tag, value in tags:
        if tag == "param":
            m = _PARAM.match(value)
            if not m:
                raise ValueError(f"{path.name}: malformed @param {value!r}")
            params.append(Param(m["name"], m["type"], _default(m["default"], m["type"]), m["option"], m["doc"].strip()))
        else:
            fields[tag] = value
    name = fields.get("template")
    if name != path.stem:
        raise ValueError(f"{path.name}: @template {name!r} must be the file's name {path.stem!r}")
    declared = [p.name for p in params]
    if len(set(declared)) != len(declared) or not {"exam_id", "teacher_id"} <= set(declared):
        raise ValueError(f"{path.name}: parameters must be distinct and include exam_id and teacher_id")
    used = set(_USED.findall(text))
    if used != set(declared):
        raise ValueError(f"{path.name}: the SQL uses {sorted(used)} but the header declares {sorted(declared)}")
    return Template(name, fields.get("title", name), fields.get("description", ""), tuple(params),
                    text.strip().rstrip(";"), path)


def load_templates(folder: Path = EXTRACTS_DIR) -> dict[str, Template]:
    """Every template of `sql/extracts/` (files starting with `_` are shared definitions)."""
    return {p.stem: parse_template(p) for p in sorted(Path(folder).glob("*.sql")) if not p.name.startswith("_")}


def list_text(templates: Mapping[str, Template] | None = None) -> str:
    """`examflow extract --list`: the templates and their parameters."""
    templates = templates or load_templates()
    out = ["examflow extract --teacher ID --exam EXAM_ID TEMPLATE [options] [--format xlsx|csv] [--out PATH]", ""]
    for t in templates.values():
        out.append(f"{t.name}  ({t.title})")
        out += textwrap.wrap(t.description, 100, initial_indent="    ", subsequent_indent="    ")
        for p in t.params:
            default = "required" if p.required else f"default {p.default!r}"
            out += textwrap.wrap(f"{p.option:<13} {p.name} ({p.type}, {default}): {p.doc}", 100,
                                 initial_indent="    ", subsequent_indent=" " * 18)
        out.append("")
    return "\n".join(out)


def _cast(p: Param, value: Any) -> Any:
    if value is None:
        return None
    if p.type == "text":
        s = str(value)
        if len(s) > MAX_TEXT or any(ord(ch) < 32 for ch in s):
            raise ExtractRefused(f"{p.option}: not an acceptable value ({len(s)} characters"
                                 f"{', control characters' if any(ord(ch) < 32 for ch in s) else ''})")
        return s
    text = str(value).strip()
    try:
        if p.type == "int":
            if not re.fullmatch(r"[+-]?\d{1,9}", text):
                raise ValueError
            v: Any = int(text)
        else:
            v = float(text)
            if not math.isfinite(v):
                raise ValueError
    except ValueError:
        kind = "a whole number" if p.type == "int" else "a number"
        raise ExtractRefused(f"{p.option} must be {kind}, not {str(value)[:40]!r}") from None
    lo, hi = BOUNDS.get(p.name, (None, None))
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ExtractRefused(f"{p.option} must lie in [{lo if lo is not None else '-∞'}, "
                             f"{hi if hi is not None else '∞'}], not {v}")
    return v


def bind(template: Template, exam_id: str, teacher_id: str, options: Mapping[str, Any] | None) -> dict:
    """The named parameters of `template` for a request: options cast to their types, defaults
    filled. ExtractRefused for an option the template does not take or a value that does not fit."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    unknown = [k for k in options if template.param(k) is None or k in ("exam_id", "teacher_id")]
    if unknown:
        takes = ", ".join(p.option for p in template.options) or "no options"
        given = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise ExtractRefused(f"{template.name} takes no {given} (it takes: {takes})")
    values: dict[str, Any] = {"exam_id": _cast(template.param("exam_id"), exam_id),
                              "teacher_id": _cast(template.param("teacher_id"), teacher_id)}
    for p in template.options:
        v = _cast(p, options.get(p.name))
        if v is None:
            if p.required:
                raise ExtractRefused(f"{template.name} needs {p.option} ({p.doc})")
            v = p.default
        values[p.name] = v
    return values


def run_template(con: duckdb.DuckDBPyConnection, template: Template, values: dict) -> pl.DataFrame:
    """The template's rows for bound parameters `values` (the connection has prepare run): one
    SELECT, its parameters bound by DuckDB, never formatted into the text."""
    statements = con.extract_statements(template.sql)
    if len(statements) != 1 or statements[0].type.name != "SELECT":
        raise ExtractError(f"template {template.name} must be exactly one SELECT statement")
    return con.sql(template.sql, params=values).pl()
