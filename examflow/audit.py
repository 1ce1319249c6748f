"""The audit logs (rules.md §9, §12): who took which personal data, when, into which file
(audit.extracts) and who was shown, refused or locked out in the teacher portal (audit.access).
Rows are only ever inserted.

`record` inserts on a connection the caller already holds (runs writing printouts). `write` is for
processes that do not hold the warehouse (extracts, the portal): one short write to the main
warehouse, through warehouse.connect's wait of `wait` seconds while another process (a running
pipeline) holds its lock;
failing that — or when there is no warehouse yet — the rows are appended to the log's JSONL file
beside it (`<stem>.audit.jsonl` for extracts, `<stem>.access.jsonl` for the portal; owner-only,
append-only). The next write that reaches the warehouse copies every log's missing fallback rows in
(matched on the log's identifying columns, so never twice); the files are kept as written.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import duckdb
import polars as pl

from examflow.printing import ensure_owner_only_dir
from examflow.errors import WarehouseBusy
from examflow.warehouse import SQL_DIR, connect

logger = logging.getLogger("examflow")
AUDIT_WAIT = 3.0  # seconds to retry while a run holds the warehouse's lock


@dataclass(frozen=True)
class Log:
    """One audit table: its columns (`at` first), the columns that identify a row when a fallback row
    is merged, the JSON columns, and the fallback file's suffix."""

    table: str
    columns: tuple[str, ...]
    identity: tuple[str, ...]
    suffix: str
    json_columns: tuple[str, ...] = ("params",)
    int_columns: tuple[str, ...] = ("rows",)

    def jsonl(self, warehouse: Path) -> Path:
        warehouse = Path(warehouse)
        return warehouse.with_name(warehouse.stem + self.suffix)

    @property
    def ddl(self) -> str:
        return (SQL_DIR / "audit" / f"{self.table}.sql").read_text(encoding="utf-8")


EXTRACTS = Log("extracts", ("at", "who", "template", "params", "rows", "file", "sha256", "exam_id", "outcome", "reason"),
               ("at", "who", "template", "outcome", "file", "sha256"), ".audit.jsonl")
ACCESS = Log("access", ("at", "who", "what", "params", "outcome", "exam_id", "rows", "client", "reason"),
             ("at", "who", "what", "outcome", "params"), ".access.jsonl")
LOGS = (EXTRACTS, ACCESS)


@dataclass(frozen=True)
class AuditNote:
    """Where the audit rows went: 'warehouse' (the audit table) or 'jsonl' (the fallback file)."""

    where: str
    path: Path
    note: str = ""


def record(con, who: str, template: str, params: dict, rows: int | None, file: str | None, sha256: str | None,
           exam_id: str | None = None, outcome: str = "written", reason: str | None = None) -> None:
    """One audit.extracts row on a connection the caller holds (printouts, arrangement)."""
    record_many(con, [{"who": who, "template": template, "params": params, "rows": rows, "file": file,
                       "sha256": sha256, "exam_id": exam_id, "outcome": outcome, "reason": reason}])


def record_many(con, entries: Iterable[dict]) -> None:
    """audit.extracts rows (mappings of its columns; `at` defaults to now, `outcome` to 'written') in
    one insert on a connection the caller holds: a joint exam's printouts are thousands of files, and
    an INSERT per row took ~1 ms each."""
    now = dt.datetime.now()
    _insert(con, EXTRACTS, _frame(EXTRACTS, ({"at": now, "outcome": "written", **e} for e in entries)))


def _frame(log: Log, entries: Iterable[dict]) -> pl.DataFrame:
    """Entries as a frame of the log's columns: at a timestamp, counts integers, JSON as text."""
    schema = {c: (pl.Datetime("us") if c == "at" else pl.Int64 if c in log.int_columns else pl.String)
              for c in log.columns}
    rows = []
    for e in entries:
        row = {}
        for c in log.columns:
            v = e.get(c)
            if c in log.json_columns and v is not None and not isinstance(v, str):
                v = json.dumps(v, ensure_ascii=False, default=str)
            elif c == "at" and isinstance(v, str):
                v = dt.datetime.fromisoformat(v)
            elif v is not None and c not in log.int_columns and c != "at":
                v = str(v)
            row[c] = v
        rows.append(row)
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _insert(con, log: Log, frame: pl.DataFrame, only_new: bool = False) -> None:
    cols = ", ".join(f'"{c}"' for c in log.columns)
    query = f"INSERT INTO audit.{log.table} ({cols}) SELECT {cols} FROM audit_rows p"
    if only_new:
        same = " AND ".join(f'a."{c}"::VARCHAR IS NOT DISTINCT FROM p."{c}"' if c in log.json_columns else
                            f'a."{c}" IS NOT DISTINCT FROM p."{c}"' for c in log.identity)
        query += f" WHERE NOT EXISTS (SELECT 1 FROM audit.{log.table} a WHERE {same})"
    con.register("audit_rows", frame)
    try:
        con.execute(query)
    finally:
        con.unregister("audit_rows")


COPIED_DDL = SQL_DIR / "audit" / "fallback_copied.sql"


def _read_jsonl(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            entry["at"] = dt.datetime.fromisoformat(entry["at"])
        except (ValueError, KeyError, TypeError):
            continue
        entries.append(entry)
    return entries


def _merge_pending(con, warehouse: Path) -> None:
    """Copy every log's fallback rows that its table lacks into it (insert only; the files are kept).
    Only the part of a file not copied yet is read: the offset reached is kept in
    audit.fallback_copied, in the same transaction (a portal restarted after a year of runs read its
    whole file again: 8 s of CPU for 250,000 rows). A file shorter than its offset was replaced: it
    is read from the start (rows already in the table are matched and skipped)."""
    for log in LOGS:
        jsonl = log.jsonl(warehouse)
        if not jsonl.exists():
            continue
        start = con.execute('SELECT coalesce(max("bytes"), 0) FROM audit.fallback_copied WHERE file = ?',
                            [jsonl.name]).fetchall()[0][0]
        with open(jsonl, "rb") as f:
            if start > os.fstat(f.fileno()).st_size:
                start = 0
            f.seek(start)
            data = f.read()
        complete = data[:data.rfind(b"\n") + 1]  # a line being appended right now waits for the next write
        if not complete:
            continue
        entries = _read_jsonl(complete.decode("utf-8", "replace"))
        if entries:
            _insert(con, log, _frame(log, entries), only_new=True)
        con.execute("INSERT INTO audit.fallback_copied VALUES (?, ?, ?)",
                    [jsonl.name, start + len(complete), dt.datetime.now()])


def _append_jsonl(path: Path, entries: list[dict]) -> None:
    ensure_owner_only_dir(path.parent)
    text = "".join(json.dumps({**e, "at": e["at"].isoformat()}, ensure_ascii=False, default=str) + "\n"
                   for e in entries)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def write(warehouse: Path, log: Log, entries: list[dict], wait: float = AUDIT_WAIT) -> AuditNote:
    """Append `entries` to audit.<log.table> of the main warehouse, or to the log's JSONL file when a
    run holds the warehouse for longer than `wait` seconds (or there is no warehouse yet)."""
    warehouse = Path(warehouse)
    jsonl = log.jsonl(warehouse)
    problem = "there is no warehouse yet"
    if warehouse.exists():
        try:
            with connect(warehouse, wait=max(0.0, wait)) as con:
                con.execute("BEGIN TRANSACTION")
                con.execute("CREATE SCHEMA IF NOT EXISTS audit")
                for each in LOGS:
                    con.execute(each.ddl)
                con.execute(COPIED_DDL.read_text(encoding="utf-8"))
                _merge_pending(con, warehouse)
                _insert(con, log, _frame(log, entries))
                con.execute("COMMIT")
            return AuditNote("warehouse", warehouse)
        except WarehouseBusy:
            problem = "the warehouse is locked (a pipeline run is writing it)"
        except duckdb.Error as e:
            # the rows are kept (JSONL) but this is not the expected lock wait: say so, so a broken write
            # path is seen rather than degrading into the fallback unnoticed
            problem = f"the warehouse could not take it ({type(e).__name__}: {e})"
            logger.warning("audit.%s: %s", log.table, problem)
    _append_jsonl(jsonl, entries)
    return AuditNote("jsonl", jsonl, f"{problem}: the audit row was appended to {jsonl}; the next audit write that "
                                     f"reaches the warehouse copies it into audit.{log.table}")
