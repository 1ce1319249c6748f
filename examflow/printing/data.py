"""What the printouts read: one exam's mart tables as polars frames, and the labels they print.

Every table is read with `SELECT * ... WHERE exam_id = ?`, so the printouts rely only on the
column names of outputs.md (extra columns are used when present, never required). A table the
warehouse does not have yet (e.g. the quantification tables on an older warehouse) loads as
`None`; the printout then skips that sheet with a note instead of failing. DuckDB HUGEINT /
DECIMAL results (sums) are cast to Float64 or Int64 so Excel gets numbers, not text.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import polars as pl

__all__ = [
    "ExamData",
    "Subject",
    "class_key",
    "class_label",
    "load_exam",
    "read_table",
    "STATUS_LABEL",
    "TOTAL_STATUS_LABEL",
    "TRACK_LABEL",
]

# what a student's subject cell shows when there is no score (rules.md §4 statuses)
STATUS_LABEL = {"pending": "待定", "absent": "缺考", "void": "作废"}
# a total is only computed when every subject is ok (staging.totals_ranked)
TOTAL_STATUS_LABEL = {"pending": "待定", "incomplete": "缺科", "absent": "缺考", "void": "作废"}
TRACK_LABEL = {"physics": "物理类", "history": "历史类", "all": "全体"}
ROLE_ORDER = {"core": 0, "first_choice": 1, "reselect": 2}


def class_label(class_id: Any) -> str:
    """3 → 3班; 一中:3 → 一中3班; '*' (the cohort's row) → 年级; anything else as written."""
    c = "" if class_id is None else str(class_id)
    if c == "*":
        return "年级"
    if c.isdigit():
        return f"{c}班"
    if ":" in c:
        school, num = c.rsplit(":", 1)
        if num.isdigit():
            return f"{school}{num}班"
    return c


@functools.lru_cache(maxsize=1 << 16)  # sort keys: called per row, on a few thousand distinct ids
def class_key(class_id: Any) -> tuple:
    """Natural order of class ids (2 before 10, 一中:2 before 一中:10); the cohort row last."""
    c = "" if class_id is None else str(class_id)
    if c == "*":
        return ((2, ""),)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", c) if p != "")


def track_label(track: Any) -> str:
    return TRACK_LABEL.get(str(track), "" if track is None else str(track))


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    full: float | None
    role: str  # core / first_choice / reselect / total
    position: int

    @property
    def reselect(self) -> bool:
        return self.role == "reselect"


@dataclass
class ExamData:
    """One exam's tables; `tables[name]` is None when the warehouse lacks `mart.<name>`."""

    exam_id: str
    name: str
    date: Any = None
    grade: str | None = None
    previous: str | None = None
    folder: str | None = None
    printing: dict[str, Any] = field(default_factory=dict)  # school.yaml / exam.yaml `printing:`
    subjects: list[Subject] = field(default_factory=list)
    tables: dict[str, pl.DataFrame | None] = field(default_factory=dict)

    def table(self, name: str) -> pl.DataFrame | None:
        return self.tables.get(name)

    @property
    def title(self) -> str:
        return self.name or self.exam_id

    def subject(self, code: str) -> Subject:
        for s in self.subjects:
            if s.code == code:
                return s
        if code == "total":
            return Subject("total", "总分", None, "total", 10_000)
        return Subject(code, code, None, "core", 9_999)

    def subject_name(self, code: Any) -> str:
        return self.subject(str(code)).name if code is not None else ""

    def subject_order(self, code: Any) -> int:
        return self.subject(str(code)).position if code is not None else 10_001


def _existing(con, schema: str) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]).fetchall()
    return {r[0] for r in rows}


def _numeric(frame: pl.DataFrame) -> pl.DataFrame:
    """DECIMAL (DuckDB's HUGEINT sums) → Int64 when integral, else Float64."""
    casts = []
    for col, dtype in frame.schema.items():
        if isinstance(dtype, pl.Decimal):
            casts.append(pl.col(col).cast(pl.Int64 if (dtype.scale or 0) == 0 else pl.Float64))
    return frame.with_columns(casts) if casts else frame


def read_table(con, table: str, exam_id: str, existing: set[str] | None = None) -> pl.DataFrame | None:
    """`mart.<table>` rows of the exam (without exam_id), or None when the table does not exist."""
    schema, _, name = table.rpartition(".")
    schema = schema or "mart"
    if existing is None:
        existing = _existing(con, schema)
    if name not in existing:
        return None
    frame = con.sql(f'SELECT * FROM {schema}."{name}" WHERE exam_id = ?', params=[exam_id]).pl()
    return _numeric(frame.drop("exam_id"))


def load_exam(con, exam_id: str, tables: Iterable[str]) -> ExamData:
    """The exam's header, its subjects and the named mart tables."""
    marts = _existing(con, "mart")
    exam = read_table(con, "exams", exam_id, marts)
    head: dict[str, Any] = exam.row(0, named=True) if exam is not None and exam.height else {}
    raw_tables = _existing(con, "raw")
    if not head:
        if "exams" in raw_tables:
            rows = con.execute("SELECT name, date, grade, previous, folder FROM raw.exams WHERE exam_id = ?",
                               [exam_id]).fetchall()
            if rows:
                head = dict(zip(("name", "date", "grade", "previous", "folder"), rows[0]))
    printing: dict[str, Any] = {}
    if "exams" in raw_tables:
        row = con.execute("SELECT settings->>'$.printing' FROM raw.exams WHERE exam_id = ?", [exam_id]).fetchone()
        printing = json.loads(row[0]) if row and row[0] else {}
    subjects: list[Subject] = []
    if "subjects" in raw_tables:
        rows = con.execute("SELECT subject, name, full_marks, role, position FROM raw.subjects WHERE exam_id = ? "
                           "ORDER BY position, subject", [exam_id]).fetchall()
        for i, (code, name, full, role, pos) in enumerate(rows):
            subjects.append(Subject(code, name or code, full, role or "core", pos if pos is not None else i))
    data = ExamData(exam_id=exam_id, name=head.get("name") or exam_id, date=head.get("date"),
                    grade=head.get("grade"), previous=head.get("previous"), folder=head.get("folder"),
                    printing=printing, subjects=subjects)
    for t in tables:
        data.tables[t] = read_table(con, t, exam_id, marts)
    return data


def nonnull(frame: pl.DataFrame | None) -> bool:
    return frame is not None and frame.height > 0
