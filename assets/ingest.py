"""Stage 1, ingest: an exam folder, checked against the input contract, into the `raw` layer."""

import time
from pathlib import Path

import dagster as dg
from pydantic import Field

from assets._stage import report
from assets.partitions import exam_partitions
from assets.resources import WAREHOUSE_POOL, ExamFoldersResource, WarehouseResource
from examflow import contracts
from examflow.errors import ContractError
from examflow.ingest import open_exam_folder
from examflow.warehouse import write_raw


class IngestConfig(dg.Config):
    folder: str = Field(default="", description="The exam folder; empty: the folder under EXAMFLOW_EXAMS whose "
                                                "exam.yaml has this id, else the one last ingested for it.")


@dg.asset(key=["raw", "exam_files"], group_name="ingest", partitions_def=exam_partitions, kinds={"duckdb"},
          pool=WAREHOUSE_POOL,
          description="Every file of the exam folder as read, with source_file, source_row, file_sha256 and "
                      "ingested_at. A folder that breaks the input contract fails here and writes nothing.")
def raw_exam_files(context: dg.AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource,
                   exam_folders: ExamFoldersResource) -> dg.MaterializeResult:
    exam_id = context.partition_key
    contracts.start_worker()  # the checks' GX import, beside the ingest (examflow.contracts)
    folder = Path(config.folder) if config.folder else exam_folders.find(exam_id, warehouse)
    started = time.perf_counter()
    try:
        # the scan and marking exports are read file by file as they are written, in one transaction
        raw = open_exam_folder(folder, progress=lambda m: report(context, m))
        if raw.config.id != exam_id:
            raise dg.Failure(f"{folder / 'exam.yaml'}: id {raw.config.id!r} does not match the partition {exam_id!r}")
        with warehouse.connect() as con:
            counts = write_raw(con, raw)
    except ContractError as e:
        # the run fails with the contract message itself, where an operator looks first
        raise dg.Failure(description=f"input contract broken: {e}", metadata={
            "file": e.file or "", "row": e.row if e.row is not None else "", "column": e.column or ""}) from e
    seconds = round(time.perf_counter() - started, 3)
    report(context, f"{exam_id}: ingested {len(raw.files)} files in {seconds:.1f}s")
    return dg.MaterializeResult(metadata={
        "folder": str(folder.resolve()), "files": len(raw.files), "seconds": seconds,
        **{f"rows_{t}": dg.MetadataValue.int(n) for t, n in counts.items()},
        "file_list": dg.MetadataValue.md("| file | kind | rows |\n|---|---|---|\n" + "\n".join(
            f"| {f['source_file']} | {f['kind']} | {f['rows']} |" for f in raw.files)),
    })
