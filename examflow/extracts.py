"""Teacher extracts (定制化服务; outputs.md, Commands: `examflow extract`; rules.md §9).

A template is one SQL file `sql/extracts/<name>.sql`: a header comment that documents it and its
parameters, then one SELECT whose parameters are DuckDB named parameters (`$exam_id`, `$line`, …),
bound at execution, never formatted into the SQL text. Header lines::

    -- @template borderline                          the name (= the file's stem)
    -- @title 临界生                                  the sheet title
    -- @description what it lists …                  (continued on indented comment lines)
    -- @param line text = "" --line: the cut line …  NAME TYPE [= DEFAULT] --OPTION: doc

TYPE is text, int or float; a parameter without a default is required. Every template declares
`exam_id` and `teacher_id`, and uses exactly the parameters it declares (checked when loaded).

Scope is data (sql/extracts/_scope.sql): the table macro `extract_scope(exam, teacher)` turns the
exam's staging.teacher_roles (teachers.csv) into the (class_id, subject) cells the teacher may see,
'*' a wildcard — a 任课 teacher their classes × subjects, a 班主任 every subject of their class, a
备课组长 every class of their subject, a 年级主任 the whole grade — and every template joins it. Before
a template runs, the request itself is checked against the same rows, so that a request outside the
scope (a class or subject not theirs, an unknown teacher id, a student outside their classes) is
refused with a message saying why rather than answered with an empty file.

Every request, written, refused or failed, leaves one audit.extracts row (append-only): who (the
teacher id), when, template (`extracts/<name>`), params (JSON), rows, file, sha256, exam_id, outcome
(written / refused / failed) and reason. Extracts read the analysts' published copy of the warehouse
(examflow.publish), so they never wait for a running pipeline; the audit row is a short write to the
main warehouse, waiting (with a line saying so) up to AUDIT_WAIT seconds while a run holds its lock,
and otherwise appended to
`<warehouse stem>.audit.jsonl` beside it (owner-only, append-only), whose rows are copied into
audit.extracts by the next extract that reaches the warehouse (the file itself is kept).

Privacy (rules.md §9): id_card and phone leave the warehouse only through the SQL macros
mask_id_card / mask_phone (sql/macros.sql), and a written column named like a contact column must
hold masked values or nothing is written; Excel cells that look like formulas stay text (and CSV
cells get a leading apostrophe); file names carry the exam id, template, teacher id and parameters,
never a student's name; files are 0o600 in 0o700 folders; `--out` must stay inside the output folder.
"""
from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import math
import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import duckdb
import polars as pl

from examflow import audit, publish, settings
from examflow.audit import AUDIT_WAIT, AuditNote
from examflow.printing import ensure_owner_only_dir, safe_filename, sha256_file, write_owner_only
from examflow.warehouse import SQL_DIR
from examflow.printing import ensure_owner_only_dir, safe_filename, sha256_file, write_owner_only

__all__ = [
    "AUDIT_WAIT", "EXTRACTS_DIR", "FORMATS", "AuditNote", "Extract", "ExtractError", "ExtractRefused", "Param",
    "Template", "audit_jsonl_path", "extract", "list_text", "load_templates", "parse_template", "resolve_out",
    "prepare", "run_template", "scope_rows", "write_audit",
]

EXTRACTS_DIR = SQL_DIR / "extracts"
SCOPE_SQL = EXTRACTS_DIR / "_scope.sql"
MACROS_SQL = SQL_DIR / "macros.sql"
FORMATS = ("xlsx", "csv")
REQUIRED = object()
MAX_TEXT = 200  # longest text parameter accepted
# numeric parameters' admissible ranges (inclusive); None = unbounded
BOUNDS: dict[str, tuple[float | None, float | None]] = {"min_change": (0, None), "gap": (0.0, 1.0)}
# columns that may only ever carry masked values (rules.md §9)
SENSITIVE = re.compile(r"id_card|phone|身份证|电话|手机", re.IGNORECASE)

ROLE_ZH = {"teacher": "任课", "head": "班主任", "subject_lead": "备课组长", "director": "年级主任",
           "district": "联考负责人"}
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


# ------------------------------------------------------------------------------------ templates
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


# ------------------------------------------------------------------------------------ errors, results
class ExtractError(Exception):
    """The extract could not be made (logged with outcome 'failed')."""

    outcome = "failed"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.audit: AuditNote | None = None


class ExtractRefused(ExtractError):
    """The request is outside the teacher's scope or otherwise not acceptable (logged as 'refused')."""

    outcome = "refused"


@dataclass
class Extract:
    template: str
    exam_id: str
    teacher_id: str
    params: dict
    frame: pl.DataFrame
    path: Path
    format: str
    rows: int
    sha256: str
    audit: AuditNote
    scope: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------------------------ parameters
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


# ------------------------------------------------------------------------------------ the analysts' copy
def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The masking macros and the scope macro, on this (read-only) connection's temp catalog."""
    con.execute(MACROS_SQL.read_text(encoding="utf-8"))
    con.execute(SCOPE_SQL.read_text(encoding="utf-8"))


def scope_rows(con: duckdb.DuckDBPyConnection, exam_id: str, teacher_id: str) -> list[dict]:
    """The teacher's scope in the exam: [{class_id, subject, contact, roles, school_wide}], '*' a wildcard;
    school_wide names the school when a row is one class of a school-wide role in a joint exam."""
    cur = con.execute("SELECT class_id, subject, contact, roles, school_wide FROM extract_scope($exam_id, $teacher_id) "
                      "ORDER BY class_id = '*' DESC, subject = '*' DESC, class_id, subject",
                      {"exam_id": exam_id, "teacher_id": teacher_id})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _covers(rows: list[dict], class_id: str | None = None, subject: str | None = None) -> bool:
    for r in rows:
        if class_id is not None and r["class_id"] not in ("*", class_id):
            continue
        if subject is not None and r["subject"] not in ("*", subject):
            continue
        return True
    return False


def describe_scope(rows: list[dict], names: Mapping[str, str] | None = None) -> str:
    """The scope in words, for refusal messages."""
    names = names or {}
    parts = []
    by_subject: dict[str, list[str]] = {}
    for r in rows:
        c, s, school = r["class_id"], r["subject"], r.get("school_wide")
        if school is not None:               # one class of a school-wide role (joint exams)
            part = (f"every class of {school} (年级主任)" if s == "*"
                    else f"{names.get(s, s)} in every class of {school} (备课组长)")
            if part not in parts:
                parts.append(part)
        elif c == "*" and s == "*":
            parts.append("every school of the joint exam (联考负责人)" if "district" in r["roles"]
                         else "the whole grade (年级主任)")
        elif s == "*":
            parts.append(f"every subject of class {c} (班主任)")
        elif c == "*":
            parts.append(f"{names.get(s, s)} in every class (备课组长)")
        else:
            by_subject.setdefault(names.get(s, s), []).append(c)
    parts += [f"{s} in class {', '.join(cs)}" for s, cs in by_subject.items()]
    return "; ".join(parts) or "nothing"


def _one(con, sql: str, params: dict) -> tuple | None:
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


def _other_school(con, exam_id: str, teacher_id: str, class_id: str) -> str:
    """In a joint exam, the refusal of another school's class says so (scope stops at the school)."""
    row = _one(con, "SELECT any_value(s.school), bool_or(t.school = s.school) "
                    "FROM mart.students s LEFT JOIN staging.teacher_roles t ON t.exam_id = s.exam_id "
                    "AND t.teacher_id = $t WHERE s.exam_id = $e AND s.class_id = $c AND s.class_id LIKE '%:%'",
               {"e": exam_id, "t": teacher_id, "c": class_id})
    if row is None or row[0] is None or row[1]:
        return ""
    return f" (outside scope: it is a class of {row[0]}, and a school's teachers see their own school's students only)"


def check_request(con: duckdb.DuckDBPyConnection, template: Template, values: dict) -> tuple[list[dict], str]:
    """Refuse (ExtractRefused) a request outside the teacher's scope; return the scope rows and the
    scope in words."""
    exam_id, teacher_id = values["exam_id"], values["teacher_id"]
    if _one(con, "SELECT 1 FROM mart.exams WHERE exam_id = $e", {"e": exam_id}) is None:
        raise ExtractRefused(f"no exam {exam_id!r} in the warehouse (the analysts' copy)")
    try:
        rows = scope_rows(con, exam_id, teacher_id)
    except duckdb.CatalogException as e:
        raise ExtractError(f"the warehouse has no teacher roles for {exam_id} (staging.teacher_roles): "
                           f"run the exam with its teachers.csv first ({e})") from None
    if not rows:
        raise ExtractRefused(f"unknown teacher {teacher_id!r}: not in teachers.csv of exam {exam_id} "
                             "(or with no class or subject there), so nothing may be extracted")
    names = dict(con.execute("SELECT subject, name FROM raw.subjects WHERE exam_id = $e", {"e": exam_id}).fetchall())
    names["total"] = "总分"
    scope = describe_scope(rows, names)
    classes = {r[0] for r in con.execute("SELECT DISTINCT class_id FROM mart.students WHERE exam_id = $e",
                                         {"e": exam_id}).fetchall()}
    class_id = values.get("class_id", "*")
    subject = values.get("subject", "*")
    label = names.get(subject, subject)
    if class_id != "*":
        if class_id not in classes:
            raise ExtractRefused(f"no class {class_id!r} in exam {exam_id}")
        if not _covers(rows, class_id=class_id):
            raise ExtractRefused(f"class {class_id} is not one of {teacher_id}'s classes in {exam_id}"
                                 f"{_other_school(con, exam_id, teacher_id, class_id)}; {teacher_id} may extract: {scope}")
    if subject != "*":
        if subject not in names:
            raise ExtractRefused(f"no subject {subject!r} in exam {exam_id} (subjects: "
                                 f"{', '.join(s for s in names)})")
        if not _covers(rows, subject=subject):
            raise ExtractRefused(f"{label} ({subject}) is not {teacher_id}'s subject in {exam_id}; "
                                 f"{teacher_id} may extract: {scope}")
        if class_id != "*" and not _covers(rows, class_id=class_id, subject=subject):
            raise ExtractRefused(f"{label} ({subject}) of class {class_id} is not {teacher_id}'s in {exam_id}; "
                                 f"{teacher_id} may extract: {scope}")
    if "student_id" in values:
        student = _one(con, "SELECT class_id FROM mart.students WHERE exam_id = $e AND student_id = $s",
                       {"e": exam_id, "s": values["student_id"]})
        # an unknown student and another class's student get the same answer: existence is not revealed
        if student is None or not _covers(rows, class_id=student[0], subject=None if subject == "*" else subject):
            raise ExtractRefused(f"student {values['student_id']!r} is not in {teacher_id}'s classes in {exam_id}"
                                 f"{'' if subject == '*' else f' for {label}'}; {teacher_id} may extract: {scope}")
    if values.get("line"):
        lines = [r[0] for r in con.execute("SELECT DISTINCT line FROM mart.cut_lines WHERE exam_id = $e ORDER BY 1",
                                           {"e": exam_id}).fetchall()]
        if values["line"] not in lines:
            raise ExtractRefused(f"no cut line {values['line']!r} in exam {exam_id} (its lines: "
                                 f"{', '.join(lines) or 'none'})")
    return rows, scope


def run_template(con: duckdb.DuckDBPyConnection, template: Template, values: dict) -> pl.DataFrame:
    """The template's rows for bound parameters `values` (the connection has prepare run): one
    SELECT, its parameters bound by DuckDB, never formatted into the text."""
    statements = con.extract_statements(template.sql)
    if len(statements) != 1 or statements[0].type.name != "SELECT":
        raise ExtractError(f"template {template.name} must be exactly one SELECT statement")
    return con.sql(template.sql, params=values).pl()


def _check_masked(frame: pl.DataFrame) -> None:
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


# ------------------------------------------------------------------------------------ files
def _default_name(template: Template, values: dict, fmt: str) -> str:
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


def _write(path: Path, fmt: str, frame: pl.DataFrame, template: Template, info: list[tuple[str, str]],
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


# ------------------------------------------------------------------------------------ audit
def audit_jsonl_path(warehouse: Path) -> Path:
    """The fallback audit file beside the warehouse: `<stem>.audit.jsonl`."""
    return audit.EXTRACTS.jsonl(warehouse)


def write_audit(warehouse: Path, entry: dict, wait: float = AUDIT_WAIT) -> AuditNote:
    """One audit.extracts row (examflow.audit.write: the warehouse, or the JSONL file while a run holds it)."""
    return audit.write(warehouse, audit.EXTRACTS, [entry], wait)


# ------------------------------------------------------------------------------------ the extract
def extract(template: str, *, teacher_id: str, exam_id: str, options: Mapping[str, Any] | None = None,
            fmt: str | None = None, out: str | os.PathLike | None = None,
            warehouse: str | os.PathLike | None = None, output: str | os.PathLike | None = None,
            audit_wait: float = AUDIT_WAIT) -> Extract:
    """Make one teacher extract: check the request against the teacher's scope, run the template on
    the analysts' copy, write the file, write the audit row. Raises ExtractRefused (outside the
    scope, bad parameter, --out outside the output folder) or ExtractError, after logging it."""
    wh = settings.warehouse_path(warehouse)
    out_dir = settings.output_dir(output)
    requested = {k: v for k, v in (options or {}).items() if v is not None}
    entry: dict[str, Any] = {
        "at": dt.datetime.now(), "who": str(teacher_id), "template": f"extracts/{template}",
        "params": {"exam_id": exam_id, "teacher_id": teacher_id, **requested, "format": fmt,
                   "out": None if out is None else str(out), "operator": _operator()},
        "rows": None, "file": None, "sha256": None, "exam_id": str(exam_id), "outcome": "written", "reason": None,
    }
    path: Path | None = None
    try:
        templates = load_templates()
        if template not in templates:
            raise ExtractRefused(f"no extract template {str(template)[:60]!r}; templates: {', '.join(templates)}")
        tpl = templates[template]
        values = bind(tpl, exam_id, teacher_id, requested)
        entry["params"] = {**values, "format": fmt, "out": entry["params"]["out"],
                           "operator": entry["params"]["operator"]}
        analyst = publish.analyst_path(wh)
        if not analyst.exists():
            raise ExtractError(f"no analysts' copy of the warehouse at {analyst}: run an exam first")
        with publish.read_only(analyst) as con:
            prepare(con)
            scope, scope_text = check_request(con, tpl, values)
            meta = _one(con, "SELECT name, previous FROM mart.exams WHERE exam_id = $e", {"e": values["exam_id"]})
            tname = _one(con, "SELECT any_value(teacher_name) FROM staging.teacher_roles WHERE exam_id = $e "
                              "AND teacher_id = $t", {"e": values["exam_id"], "t": values["teacher_id"]})
            path, fmt = resolve_out(out, out_dir, values["exam_id"], _default_name(tpl, values, fmt or "xlsx"), fmt)
            frame = run_template(con, tpl, values)
        entry["params"]["format"] = fmt
        _check_masked(frame)
        _check_file_name(path, out_dir, frame)
        exam_name = meta[0] if meta else values["exam_id"]
        teacher = f"{tname[0]}({values['teacher_id']})" if tname and tname[0] else values["teacher_id"]
        published = dt.datetime.fromtimestamp(analyst.stat().st_mtime)
        info = [
            ("模板", f"{tpl.name} {tpl.title}"), ("说明", tpl.description),
            ("考试", f"{exam_name} ({values['exam_id']})"),
            ("上次考试", meta[1] if meta and meta[1] else "无（名次变化为空）"),
            ("教师", teacher), ("范围", scope_text),
            ("参数", ", ".join(f"{p.name}={values[p.name]}" for p in tpl.options) or "无"),
            ("行数", str(frame.height)), ("生成时间", f"{entry['at']:%Y-%m-%d %H:%M:%S}"),
            ("数据", f"分析副本 {analyst.name}，发布于 {published:%Y-%m-%d %H:%M}"),
            ("隐私", "身份证号、电话均已脱敏；仅供本人教学使用，勿外传 (rules.md §9)"),
        ]
        sha = _write(path, fmt, frame, tpl, info, f"{exam_name} {tpl.title} {teacher}")
        entry.update(rows=frame.height, file=str(path), sha256=sha)
    except ExtractError as e:
        entry.update(outcome=e.outcome, reason=e.reason, rows=None, file=None, sha256=None)
        e.audit = write_audit(wh, entry, audit_wait)
        raise
    except Exception as e:  # noqa: BLE001 - a failure is logged too, then reported
        entry.update(outcome="failed", reason=f"{type(e).__name__}: {e}", rows=None, file=None, sha256=None)
        audit_note = write_audit(wh, entry, audit_wait)
        if not isinstance(e, (duckdb.Error, OSError)):
            raise
        err = ExtractError(f"the extract failed: {type(e).__name__}: {e}")
        err.audit = audit_note
        raise err from e
    try:
        note = write_audit(wh, entry, audit_wait)
    except BaseException:
        # no audit row anywhere: the file must not stay (every extract is logged, rules.md §9)
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    return Extract(tpl.name, values["exam_id"], values["teacher_id"], values, frame, path, fmt, frame.height, sha,
                   note, scope)


def _check_file_name(path: Path, out_dir: Path, frame: pl.DataFrame) -> None:
    """No student's name in the file's path below the output folder (rules.md §9)."""
    if "name" not in frame.columns:
        return
    rel = str(path.relative_to(Path(out_dir).resolve()))
    for name in frame.get_column("name").drop_nulls().unique().to_list():
        if len(name) >= 2 and name in rel:
            raise ExtractRefused("--out would put a student's name into the file name (rules.md §9); "
                                 "choose another name")


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
