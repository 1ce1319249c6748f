"""audit.extracts: who took which personal data, when, into which file (rules.md §9). Rows are only
ever inserted."""
from __future__ import annotations

import datetime as dt
import json


def record(con, who: str, template: str, params: dict, rows: int | None, file: str | None, sha256: str | None,
           exam_id: str | None = None, outcome: str = "written", reason: str | None = None) -> None:
    con.execute(
        'INSERT INTO audit.extracts ("at", who, template, params, "rows", file, sha256, exam_id, outcome, reason) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [dt.datetime.now(), who, template, json.dumps(params, ensure_ascii=False, default=str), rows, file, sha256,
         exam_id, outcome, reason])
