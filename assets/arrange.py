"""Exam arrangement (考务编排): timetable, seating, invigilation and the 考务 printouts. Runs before
the exam, so it needs no scans and is not part of the post-exam job."""
from pathlib import Path

import dagster as dg

from assets._stage import markdown_preview, mart_specs, report
from assets.partitions import exam_partitions
from assets.resources import WAREHOUSE_POOL, ExamFoldersResource, WarehouseResource
from examflow.arrange.folder import arrange_folder



@dg.multi_asset(specs=mart_specs("arrange"), name="arrange", partitions_def=exam_partitions, pool=WAREHOUSE_POOL)
def arrangement(context: dg.AssetExecutionContext, warehouse: WarehouseResource, exam_folders: ExamFoldersResource):
    exam_id = context.partition_key
    folder = exam_folders.find(exam_id, warehouse)
    with warehouse.retry_when_busy():
        done = arrange_folder(folder, Path(warehouse.path), Path(exam_folders.output_dir),
                              progress=lambda m: report(context, m))
    with warehouse.connect(read_only=True) as con:
        for key in context.selected_asset_keys:
            frame = getattr(done, key.path[-1])
            yield dg.MaterializeResult(asset_key=key, metadata={
                "rows": frame.height, "printouts": len(done.files),
                "preview": dg.MetadataValue.md(markdown_preview(con, "mart." + key.path[-1], exam_id)),
                "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in done.notes) or "none")})
