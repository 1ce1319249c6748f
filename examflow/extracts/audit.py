"""Every extract request, written, refused or failed, leaves one audit.extracts row (rules.md §9),
written through examflow.audit (the warehouse, or the JSONL fallback file while a run holds it)."""
from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Any, Mapping

from examflow import audit
from examflow.audit import AUDIT_WAIT, AuditNote


def audit_jsonl_path(warehouse: Path) -> Path:
    """The fallback audit file beside the warehouse: `<stem>.audit.jsonl`."""
    return audit.EXTRACTS.jsonl(warehouse)


def write_audit(warehouse: Path, entry: dict, wait: float = AUDIT_WAIT) -> AuditNote:
    """One audit.extracts row (examflow.audit.write: the warehouse, or the JSONL file while a run holds it)."""
    return audit.write(warehouse, audit.EXTRACTS, [entry], wait)


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def new_entry(template: str, teacher_id: str, exam_id: str, requested: Mapping[str, Any], fmt: str | None,
              out: str | os.PathLike | None) -> dict[str, Any]:
    """The request's audit row, as if it will be written (the extract updates it as it goes)."""
    return {
        "at": dt.datetime.now(), "who": str(teacher_id), "template": f"extracts/{template}",
        "params": {"exam_id": exam_id, "teacher_id": teacher_id, **requested, "format": fmt,
                   "out": None if out is None else str(out), "operator": _operator()},
        "rows": None, "file": None, "sha256": None, "exam_id": str(exam_id), "outcome": "written", "reason": None,
    }
