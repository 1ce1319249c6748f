"""The printouts of an exam (outputs.md, Printouts), under `<output folder>/<exam_id>/`:

- workbooks (`examflow.printouts.workbooks`): 成绩总表, 班级量化表, 教师量化表, 小题分析, 异常卷 (.xlsx);
- class PDFs (`examflow.printouts.pdfs`): 成绩单/<class_id>.pdf and 成绩条/<class_id>.pdf;
- joint exams (`examflow.printouts.schools`): each school's bundle under schools/<school>/ and the
  district's 联考总表.xlsx.

`print_workbooks` / `print_pdfs` are what the Dagster assets (assets/print.py) call: read the
exam's mart tables (one short connection), write the files (no connection held), then append one
audit row per file to `audit.extracts` (who 'examflow', template `printouts/<kind>`, params JSON
with exam_id and, for class PDFs, class_id; rows, file, sha256). The audit table is only ever
inserted into.

Privacy (rules.md §9): the printouts read mart tables only, which hold no id_card or phone; file
names are fixed titles and class ids (no student name); files are 0o600 and folders 0o700, written
atomically; text that looks like a formula stays text in Excel.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from examflow.printing import PrintedFile, ensure_owner_only_dir, safe_filename

__all__ = ["PrintRun", "exam_folder", "print_workbooks", "print_pdfs", "print_exam", "record_audit"]

WHO = "examflow"


@dataclass
class PrintRun:
    """What one printout step wrote: files, skipped-sheet notes, seconds."""

    exam_id: str
    folder: Path
    files: list[PrintedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def exam_folder(output_dir: str | Path, exam_id: str) -> Path:
    return Path(output_dir) / safe_filename(exam_id)


def record_audit(con, exam_id: str, files: Sequence[PrintedFile], classes: dict[Path, str] | None = None) -> int:
    """One audit.extracts row per file (append-only)."""
    from examflow import audit

    for f in files:
        params = {"exam_id": exam_id}
        if classes and f.path in classes:
            params["class_id"] = classes[f.path]
        audit.record(con, WHO, f"printouts/{f.kind}", params, f.rows, str(f.path), f.sha256, exam_id=exam_id)
    return len(files)


def _load(wh_path: Path, exam_id: str, tables: Sequence[str]):
    from examflow import warehouse
    from examflow.printouts.data import load_exam

    with warehouse.connect(Path(wh_path), read_only=False) as con:
        warehouse.ensure_schema(con)
        return load_exam(con, exam_id, tables)


def _audit(wh_path: Path, run: PrintRun, classes: dict[Path, str] | None = None) -> None:
    from examflow import warehouse

    with warehouse.connect(Path(wh_path)) as con:
        warehouse.ensure_schema(con)
        con.execute("BEGIN TRANSACTION")
        try:
            record_audit(con, run.exam_id, run.files, classes)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def print_workbooks(wh_path: str | Path, exam_id: str, output_dir: str | Path) -> PrintRun:
    """Write the exam's five workbooks and their audit rows."""
    from examflow.printouts.workbooks import WORKBOOK_TABLES, Notes, write_workbooks

    from examflow.printouts.schools import SCHOOL_TABLES, schools_of, write_joint_summary, write_school_workbooks

    started = time.perf_counter()
    data = _load(Path(wh_path), exam_id, WORKBOOK_TABLES + SCHOOL_TABLES)
    run = PrintRun(exam_id, ensure_owner_only_dir(exam_folder(output_dir, exam_id)))
    notes = Notes()
    run.files = write_workbooks(data, run.folder, notes)
    run.notes = notes.items
    if schools_of(data):
        run.files += write_school_workbooks(data, run.folder) + [write_joint_summary(data, run.folder)]
    _audit(Path(wh_path), run)
    run.seconds = time.perf_counter() - started
    return run


def print_pdfs(wh_path: str | Path, exam_id: str, output_dir: str | Path) -> PrintRun:
    """Write the exam's class PDFs (成绩单, 成绩条) and their audit rows."""
    from examflow.printouts.pdfs import PDF_TABLES, write_pdfs

    from examflow.printouts.schools import SCHOOL_TABLES, copy_school_pdfs, schools_of

    started = time.perf_counter()
    data = _load(Path(wh_path), exam_id, PDF_TABLES + SCHOOL_TABLES)
    run = PrintRun(exam_id, ensure_owner_only_dir(exam_folder(output_dir, exam_id)))
    classes: dict[Path, str] = {}
    run.files = write_pdfs(data, run.folder, classes_out=classes)
    if schools_of(data):
        run.files += copy_school_pdfs(data, run.folder, run.files, classes)
    if data.table("class_quant") is None:
        run.notes.append("成绩单：仓库中没有 mart.class_quant，班级量化摘要从略")
    _audit(Path(wh_path), run, classes)
    run.seconds = time.perf_counter() - started
    return run


def print_exam(wh_path: str | Path, exam_id: str, output_dir: str | Path) -> list[PrintRun]:
    """Every printout of the exam (what `examflow run` does through the assets)."""
    return [print_workbooks(wh_path, exam_id, output_dir), print_pdfs(wh_path, exam_id, output_dir)]
