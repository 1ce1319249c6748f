"""Stage 5, print: the exam's printouts under `<output folder>/<exam_id>/` (outputs.md, Printouts),
one audit row per file. Thin: the work is examflow.printing. Each asset can be re-materialised
alone from the UI (it reads the warehouse's mart tables as they are). Without a Chinese font the PDF
step fails with dg.Failure, whose description is the one-line fix. The PDFs come last (after the
workbooks and the analysts' copy): a PDF step that cannot run leaves everything else written."""

from pathlib import Path

import dagster as dg

from assets._stage import report
from assets.partitions import exam_partitions
from assets.resources import WAREHOUSE_POOL, ExamFoldersResource, WarehouseResource
from examflow.printing.class_pdfs import PDF_TABLES
from examflow.printing.exam import PrintRun, print_pdfs, print_workbooks
from examflow.printing.fonts import FontMissing
from examflow.printing.workbooks import WORKBOOK_TABLES


def _deps(tables: list[str]) -> list[dg.AssetKey]:
    return [dg.AssetKey(["mart", t]) for t in ["exams", *tables]]


def _metadata(run: PrintRun) -> dict:
    lines = [f"- {f.path.relative_to(run.folder)} ({f.rows} rows)" for f in run.files]
    return {
        "folder": dg.MetadataValue.path(str(run.folder)),
        "files written": len(run.files),
        "rows": dg.MetadataValue.int(run.rows),
        "seconds": round(run.seconds, 3),
        "files": dg.MetadataValue.md("\n".join(lines[:200]) + ("\n- …" if len(lines) > 200 else "")),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in run.notes) or "none"),
    }


def _print(context: dg.AssetExecutionContext, printer, what: str, warehouse: WarehouseResource,
           exam_folders: ExamFoldersResource) -> dg.MaterializeResult:
    """Run one printout family for the partition's exam and report what it wrote."""
    with warehouse.retry_when_busy():
        try:
            run = printer(Path(warehouse.path), context.partition_key, Path(exam_folders.output_dir))
        except FontMissing as e:
            raise dg.Failure(description=str(e), metadata={"exit code of examflow run": 4}) from e
    report(context, f"{run.exam_id}: {len(run.files)} {what} ({run.rows} rows) in {run.seconds:.1f}s under {run.folder}")
    for note in run.notes:
        context.log.warning(note)
    return dg.MaterializeResult(metadata=_metadata(run))


@dg.asset(key=["printouts", "workbooks"], group_name="print", partitions_def=exam_partitions, kinds={"excel"},
          pool=WAREHOUSE_POOL,
          deps=_deps(WORKBOOK_TABLES),
          description="成绩总表, 班级量化表, 教师量化表, 小题分析, 异常卷 (.xlsx), each with an audit row.")
def printout_workbooks(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                       exam_folders: ExamFoldersResource) -> dg.MaterializeResult:
    return _print(context, print_workbooks, "workbooks", warehouse, exam_folders)


@dg.asset(key=["printouts", "pdfs"], group_name="print", partitions_def=exam_partitions, kinds={"pdf"},
          pool=WAREHOUSE_POOL,
          deps=_deps(PDF_TABLES) + [dg.AssetKey(["printouts", "workbooks"]), dg.AssetKey("analyst_copy")],
          description="成绩单/<class>.pdf (scores, quantification summary, distribution chart) and "
                      "成绩条/<class>.pdf (score slips), each with an audit row.")
def printout_pdfs(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  exam_folders: ExamFoldersResource) -> dg.MaterializeResult:
    return _print(context, print_pdfs, "class PDFs", warehouse, exam_folders)


PRINT_ASSETS = [printout_workbooks, printout_pdfs]
