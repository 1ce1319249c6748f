"""What the portal reads: the analysts' published copy, read-only (rules.md §12), through the SQL of
`sql/portal/` (one SELECT per file, DuckDB named parameters) and the extracts' scope macro.

The copy is attached read-only into a private in-memory DuckDB database, so it never waits for or
blocks a run (the writer never opens the copy). DuckDB caches one database per file path within a
process, and a database open on the old file would never see the swapped-in copy; attaching into
our own in-memory database avoids that cache: when the copy's file changes (a run published; new
inode), the next request attaches the new file, and requests still running finish on the old one.
Each thread reads through its own cursor (DuckDB connections are not shared between threads), and
results — query rows, and the rendered part of a page that depends on them alone — are cached per
published copy, which never changes.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import duckdb

from examflow import extracts, publish, settings
from examflow.warehouse import SQL_DIR

PORTAL_SQL = SQL_DIR / "portal"
CACHE_ENTRIES = 4000  # query results kept per published copy
PAGE_ENTRIES = 1000  # rendered page parts kept per published copy (15-30 KB each)


def _queries() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8").strip().rstrip(";")
            for p in sorted(PORTAL_SQL.glob("*.sql")) if not p.name.startswith("_")}


class NoCopy(Exception):
    """No analysts' copy has been published yet."""


class Memo:
    """A bounded map of computed values (least recently used first out), shared by threads; a value
    two threads compute at once is computed twice, never wrong."""

    def __init__(self, entries: int):
        self.entries = entries
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.entries:
                self._values.popitem(last=False)
        return value


class Snapshot:
    """One published copy, attached read-only in a private in-memory database. The copy never
    changes once published, so query results and rendered page parts are cached per snapshot; each
    thread reads through its own cursor, prepared once (the masking and scope macros)."""

    def __init__(self, path: Path, setup: list[str], queries: dict[str, str]):
        self.db = duckdb.connect(config={"memory_limit": settings.memory_limit()})
        self.db.execute("ATTACH ? AS copy (READ_ONLY)", [str(path)])
        self.setup, self.queries = setup, queries
        self._local = threading.local()
        self.results = Memo(CACHE_ENTRIES)  # query rows, and values derived from them alone
        self.pages = Memo(PAGE_ENTRIES)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self.db.cursor()
            cur.execute("USE copy")
            extracts.prepare(cur)
            for sql in self.setup:
                cur.execute(sql)
            self._local.cur = cur
        return cur

    def rows(self, query: str, params: dict) -> list[dict]:
        key = (query, tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items())))
        return self.results.get(key, lambda: self._fetch(query, params))

    def _fetch(self, query: str, params: dict) -> list[dict]:
        cur = self.cursor().execute(self.queries[query], params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


class Copy:
    """The analysts' copy of one warehouse, reattached whenever a run swaps a new one in."""

    def __init__(self, warehouse: Path):
        self.path = publish.analyst_path(warehouse)
        self.queries = _queries()
        self.setup = [(PORTAL_SQL / "_scope.sql").read_text(encoding="utf-8")]
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._snapshot: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """The newest published copy (a run that swapped one in since the last request: attached now;
        requests still reading the previous one finish on it)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise NoCopy(f"no analysts' copy at {self.path}: it is published after the first successful run") from None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key != self._key:
                self._snapshot, self._key = Snapshot(self.path, self.setup, self.queries), key
            return self._snapshot


@dataclass(frozen=True)
class Viewer:
    """Who is reading: a teacher id, or an office account (every cell of every exam)."""

    teacher_id: str | None
    office: bool


class Reader:
    """One request's reads, on one snapshot of the copy, as one account."""

    def __init__(self, snapshot: Snapshot, viewer: Viewer):
        self.snapshot, self.viewer = snapshot, viewer
        self._cells: dict[str, list[dict]] = {}

    @property
    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.snapshot.cursor()

    def rows(self, query: str, **params) -> list[dict]:
        """The rows of `sql/portal/<query>.sql` with `params` bound (never formatted into the text)."""
        sql = self.snapshot.queries[query]
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        if "$teacher_id" in sql:
            used["teacher_id"] = self.viewer.teacher_id or ""
        if "$office" in sql:
            used["office"] = self.viewer.office
        return self.snapshot.rows(query, used)
    def cells(self, exam_id: str) -> list[dict]:
        """The (class, subject) cells this account sees in the exam: empty when the exam is not theirs
        (or does not exist)."""
        if exam_id not in self._cells:
            self._cells[exam_id] = self.rows("cells", exam_id=exam_id)
        return self._cells[exam_id]

    def classes(self, exam_id: str) -> dict[str, list[dict]]:
        """class_id -> its visible subjects (cells), in order (grouped once per copy and account: a
        director's 9,000 cells took ~15 ms to group on every request)."""
        def group() -> dict[str, list[dict]]:
            out: dict[str, list[dict]] = {}
            for c in self.cells(exam_id):
                out.setdefault(c["class_id"], []).append(c)
            return out

        return self.snapshot.results.get(("classes", exam_id, self.viewer), group)
