"""The printouts of an exam (outputs.md, Printouts), under `<output folder>/<exam_id>/`:

- workbooks (`examflow.printing.workbooks`): 成绩总表, 班级量化表, 教师量化表, 小题分析, 异常卷 (.xlsx);
- class PDFs (`examflow.printing.class_pdfs`): 成绩单/<class_id>.pdf and 成绩条/<class_id>.pdf;
- joint exams (`examflow.printing.schools`): each school's bundle under schools/<school>/ and the
  district's 联考总表.xlsx.

`print_workbooks` / `print_pdfs` are what the Dagster assets (assets/print.py) call: read the
exam's mart tables (one short connection), write the files (no connection held), then append one
audit row per file to `audit.extracts` (who 'examflow', template `printouts/<kind>`, params JSON
with exam_id and, for class PDFs, class_id; rows, file, sha256). The audit table is only ever
inserted into. A PDF step that cannot run (no Chinese font: `FontMissing`) writes no file and one
audit row `printouts/pdfs` with outcome `failed` and the reason, which `examflow status` shows.

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
from examflow.printing.fonts import FontMissing, find_fonts
from examflow.printing.typeset import Typesetter

__all__ = ["PDF_STEP", "PrintRun", "exam_folder", "print_workbooks", "print_pdfs", "print_exam", "record_audit",
           "typesetter"]

PDF_STEP = "printouts/pdfs"  # the audit template of a PDF step that failed as a whole

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
    """One audit.extracts row per file (append-only), inserted together."""
    from examflow import audit

    def params(f: PrintedFile) -> dict:
        return {"exam_id": exam_id, **({"class_id": classes[f.path]} if classes and f.path in classes else {})}

    audit.record_many(con, ({"who": WHO, "template": f"printouts/{f.kind}", "params": params(f), "rows": f.rows,
                             "file": str(f.path), "sha256": f.sha256, "exam_id": exam_id} for f in files))
    return len(files)


def _load(wh_path: Path, exam_id: str, tables: Sequence[str]):
    from examflow import warehouse
    from examflow.printing.data import load_exam

    with warehouse.connect(Path(wh_path), read_only=False) as con:
        warehouse.ensure_schema(con)
        return load_exam(con, exam_id, tables)


def _audit(wh_path: Path, run: PrintRun, classes: dict[Path, str] | None = None, failed: str | None = None) -> None:
    """The run's audit rows in one transaction: one per file, or the step's failure."""
    from examflow import audit, warehouse

    with warehouse.connect(Path(wh_path)) as con:
        warehouse.ensure_schema(con)
        con.execute("BEGIN TRANSACTION")
        try:
            if failed is not None:
                audit.record(con, WHO, PDF_STEP, {"exam_id": run.exam_id}, 0, None, None, exam_id=run.exam_id,
                             outcome="failed", reason=failed)
            record_audit(con, run.exam_id, run.files, classes)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def print_workbooks(wh_path: str | Path, exam_id: str, output_dir: str | Path) -> PrintRun:
    """Write the exam's five workbooks and their audit rows."""
    from examflow.printing.schools import SCHOOL_TABLES, schools_of, write_joint_summary, write_school_workbooks
    from examflow.printing.workbooks import WORKBOOK_TABLES, Notes, write_workbooks

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


def typesetter(printing: dict) -> Typesetter:
    """The typesetter of an exam's (or an arrangement's) PDFs: the fonts found (FontMissing when
    none can print Chinese) and the templates, a school's `printing.templates` over the package's."""
    return Typesetter(find_fonts(printing.get("font")), printing.get("templates"))


def print_pdfs(wh_path: str | Path, exam_id: str, output_dir: str | Path) -> PrintRun:
    """Write the exam's class PDFs (成绩单, 成绩条) and their audit rows. Without a Chinese font
    nothing is written (not even a folder), the failure is audited and FontMissing raised."""
    from examflow.printing.class_pdfs import PDF_TABLES, write_pdfs
    from examflow.printing.schools import SCHOOL_TABLES, link_school_pdfs, schools_of

    started = time.perf_counter()
    data = _load(Path(wh_path), exam_id, PDF_TABLES + SCHOOL_TABLES)
    run = PrintRun(exam_id, exam_folder(output_dir, exam_id))
    try:
        setter = typesetter(data.printing)
    except FontMissing as e:
        _audit(Path(wh_path), run, failed=str(e))
        raise
    classes: dict[Path, str] = {}
    with setter:
        run.files = write_pdfs(data, ensure_owner_only_dir(run.folder), setter.press, classes_out=classes)
    if schools_of(data):
        run.files += link_school_pdfs(data, run.folder, run.files, classes)
    if data.table("class_quant") is None:
        run.notes.append("成绩单：仓库中没有 mart.class_quant，班级量化摘要从略")
    _audit(Path(wh_path), run, classes)
    run.seconds = time.perf_counter() - started
    return run


def print_exam(wh_path: str | Path, exam_id: str, output_dir: str | Path) -> list[PrintRun]:
    """Every printout of the exam (what `examflow run` does through the assets)."""
    return [print_workbooks(wh_path, exam_id, output_dir), print_pdfs(wh_path, exam_id, output_dir)]
