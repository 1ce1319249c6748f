"""What the portal reads: the analysts' published copy, read-only (rules.md §12), through the SQL of
`sql/portal/` (one SELECT per file, DuckDB named parameters) and the extracts' scope macro.

The copy is attached read-only into a private in-memory DuckDB database, so it never waits for or
blocks a run (the writer never opens the copy). DuckDB caches one database per file path within a
process, and a database open on the old file would never see the swapped-in copy; attaching into
our own in-memory database avoids that cache: when the copy's file changes (a run published; new
inode), the next request attaches the new file, and requests still running finish on the old one.
Each request reads through its own cursor (DuckDB connections are not shared between threads).
"""
from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from examflow import extracts, publish, settings
from examflow.warehouse import SQL_DIR

PORTAL_SQL = SQL_DIR / "portal"


def _queries() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8").strip().rstrip(";")
            for p in sorted(PORTAL_SQL.glob("*.sql")) if not p.name.startswith("_")}


class NoCopy(Exception):
    """No analysts' copy has been published yet."""


class Copy:
    """The analysts' copy of one warehouse, reattached whenever a run swaps a new one in."""

    def __init__(self, warehouse: Path):
        self.path = publish.analyst_path(warehouse)
        self.queries = _queries()
        self.scope_sql = (PORTAL_SQL / "_scope.sql").read_text(encoding="utf-8")
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._db: duckdb.DuckDBPyConnection | None = None

    def _database(self) -> duckdb.DuckDBPyConnection:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise NoCopy(f"no analysts' copy at {self.path}: it is published after the first successful run") from None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key != self._key:
                db = duckdb.connect(config={"memory_limit": settings.memory_limit()})
                db.execute("ATTACH ? AS copy (READ_ONLY)", [str(self.path)])
                self._db, self._key = db, key
            return self._db

    @contextlib.contextmanager
    def reader(self):
        cur = self._database().cursor()
        try:
            cur.execute("USE copy")
            extracts.prepare(cur)
            cur.execute(self.scope_sql)
            yield cur
        finally:
            cur.close()


@dataclass(frozen=True)
class Viewer:
    """Who is reading: a teacher id, or an office account (every cell of every exam)."""

    teacher_id: str | None
    office: bool


class Reader:
    """One request's reads, on one cursor of the copy, as one account."""

    def __init__(self, copy: Copy, cur: duckdb.DuckDBPyConnection, viewer: Viewer):
        self.copy, self.cur, self.viewer = copy, cur, viewer
        self._cells: dict[str, list[dict]] = {}

    def rows(self, query: str, **params) -> list[dict]:
        """The rows of `sql/portal/<query>.sql` with `params` bound (never formatted into the text)."""
        sql = self.copy.queries[query]
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        if "$teacher_id" in sql:
            used["teacher_id"] = self.viewer.teacher_id or ""
        if "$office" in sql:
            used["office"] = self.viewer.office
        cur = self.cur.execute(sql, used)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def cells(self, exam_id: str) -> list[dict]:
        """The (class, subject) cells this account sees in the exam: empty when the exam is not theirs
        (or does not exist)."""
        if exam_id not in self._cells:
            self._cells[exam_id] = self.rows("cells", exam_id=exam_id)
        return self._cells[exam_id]

    def classes(self, exam_id: str) -> dict[str, list[dict]]:
        """class_id -> its visible subjects (cells), in order."""
        out: dict[str, list[dict]] = {}
        for c in self.cells(exam_id):
            out.setdefault(c["class_id"], []).append(c)
        return out
