"""Scope: which (class, subject) cells a teacher may see (the table macro extract_scope of
sql/extracts/_scope.sql over staging.teacher_roles), and the check of a request against them, so
that a request outside the scope is refused with a message saying why."""
from __future__ import annotations

from typing import Mapping

import duckdb

from examflow.extracts.errors import ExtractError, ExtractRefused
from examflow.extracts.templates import EXTRACTS_DIR, Template
from examflow.warehouse import SQL_DIR

SCOPE_SQL = EXTRACTS_DIR / "_scope.sql"
MACROS_SQL = SQL_DIR / "macros.sql"


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


def covers(rows: list[dict], class_id: str | None = None, subject: str | None = None) -> bool:
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


def one_row(con, sql: str, params: dict) -> tuple | None:
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


def _other_school(con, exam_id: str, teacher_id: str, class_id: str) -> str:
    """In a joint exam, the refusal of another school's class says so (scope stops at the school)."""
    row = one_row(con, "SELECT any_value(s.school), bool_or(t.school = s.school) "
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
    if one_row(con, "SELECT 1 FROM mart.exams WHERE exam_id = $e", {"e": exam_id}) is None:
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
        if not covers(rows, class_id=class_id):
            raise ExtractRefused(f"class {class_id} is not one of {teacher_id}'s classes in {exam_id}"
                                 f"{_other_school(con, exam_id, teacher_id, class_id)}; {teacher_id} may extract: {scope}")
    if subject != "*":
        if subject not in names:
            raise ExtractRefused(f"no subject {subject!r} in exam {exam_id} (subjects: "
                                 f"{', '.join(s for s in names)})")
        if not covers(rows, subject=subject):
            raise ExtractRefused(f"{label} ({subject}) is not {teacher_id}'s subject in {exam_id}; "
                                 f"{teacher_id} may extract: {scope}")
        if class_id != "*" and not covers(rows, class_id=class_id, subject=subject):
            raise ExtractRefused(f"{label} ({subject}) of class {class_id} is not {teacher_id}'s in {exam_id}; "
                                 f"{teacher_id} may extract: {scope}")
    if "student_id" in values:
        student = one_row(con, "SELECT class_id FROM mart.students WHERE exam_id = $e AND student_id = $s",
                          {"e": exam_id, "s": values["student_id"]})
        # an unknown student and another class's student get the same answer: existence is not revealed
        if student is None or not covers(rows, class_id=student[0], subject=None if subject == "*" else subject):
            raise ExtractRefused(f"student {values['student_id']!r} is not in {teacher_id}'s classes in {exam_id}"
                                 f"{'' if subject == '*' else f' for {label}'}; {teacher_id} may extract: {scope}")
    if values.get("line"):
        lines = [r[0] for r in con.execute("SELECT DISTINCT line FROM mart.cut_lines WHERE exam_id = $e ORDER BY 1",
                                           {"e": exam_id}).fetchall()]
        if values["line"] not in lines:
            raise ExtractRefused(f"no cut line {values['line']!r} in exam {exam_id} (its lines: "
                                 f"{', '.join(lines) or 'none'})")
    return rows, scope
