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

The package by concern: ``templates`` (parsing, parameters), ``scope`` (who may see what),
``files`` (where and how the file is written, privacy checks on it), ``audit`` (the audit row),
``errors``; this module makes one extract from them.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import duckdb
import polars as pl

from examflow import publish, settings
from examflow.audit import AUDIT_WAIT, AuditNote
from examflow.extracts.audit import audit_jsonl_path, new_entry, write_audit
from examflow.extracts.errors import ExtractError, ExtractRefused
from examflow.extracts.files import (COLUMNS, FORMATS, STATUS_ZH, check_file_name, check_masked, default_name,
                                     resolve_out, write_extract)
from examflow.extracts.scope import MACROS_SQL, check_request, describe_scope, one_row, prepare, scope_rows
from examflow.extracts.templates import (EXTRACTS_DIR, Param, Template, bind, list_text, load_templates,
                                         parse_template, run_template)

__all__ = [
    "AUDIT_WAIT", "COLUMNS", "EXTRACTS_DIR", "FORMATS", "MACROS_SQL", "STATUS_ZH", "AuditNote", "Extract",
    "ExtractError", "ExtractRefused", "Param", "Template", "audit_jsonl_path", "bind", "check_masked",
    "check_request", "describe_scope", "extract", "list_text", "load_templates", "parse_template", "prepare",
    "resolve_out", "run_template", "scope_rows", "write_audit",
]

_check_masked = check_masked  # the name the extract tests call


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
    entry = new_entry(template, teacher_id, exam_id, requested, fmt, out)
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
            meta = one_row(con, "SELECT name, previous FROM mart.exams WHERE exam_id = $e", {"e": values["exam_id"]})
            tname = one_row(con, "SELECT any_value(teacher_name) FROM staging.teacher_roles WHERE exam_id = $e "
                            "AND teacher_id = $t", {"e": values["exam_id"], "t": values["teacher_id"]})
            path, fmt = resolve_out(out, out_dir, values["exam_id"], default_name(tpl, values, fmt or "xlsx"), fmt)
            frame = run_template(con, tpl, values)
        entry["params"]["format"] = fmt
        check_masked(frame)
        check_file_name(path, out_dir, frame)
        exam_name = meta[0] if meta else values["exam_id"]
        teacher = f"{tname[0]}({values['teacher_id']})" if tname and tname[0] else values["teacher_id"]
        info = _about(tpl, values, exam_name, meta, teacher, scope_text, frame, entry["at"], analyst)
        sha = write_extract(path, fmt, frame, tpl, info, f"{exam_name} {tpl.title} {teacher}")
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


def _about(tpl: Template, values: dict, exam_name: str, meta: tuple | None, teacher: str, scope_text: str,
           frame: pl.DataFrame, at: dt.datetime, analyst: Path) -> list[tuple[str, str]]:
    """The 说明 sheet: what the extract is, for whom, from which data, and the privacy note."""
    published = dt.datetime.fromtimestamp(analyst.stat().st_mtime)
    return [
        ("模板", f"{tpl.name} {tpl.title}"), ("说明", tpl.description),
        ("考试", f"{exam_name} ({values['exam_id']})"),
        ("上次考试", meta[1] if meta and meta[1] else "无（名次变化为空）"),
        ("教师", teacher), ("范围", scope_text),
        ("参数", ", ".join(f"{p.name}={values[p.name]}" for p in tpl.options) or "无"),
        ("行数", str(frame.height)), ("生成时间", f"{at:%Y-%m-%d %H:%M:%S}"),
        ("数据", f"分析副本 {analyst.name}，发布于 {published:%Y-%m-%d %H:%M}"),
        ("隐私", "身份证号、电话均已脱敏；仅供本人教学使用，勿外传 (rules.md §9)"),
    ]
