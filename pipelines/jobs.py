"""Jobs: the post-exam job materialises every per-exam asset, in process, one step at a time (DuckDB
takes one writer). Both write the warehouse, so both carry WAREHOUSE_TAG: dagster.yaml lets one such
run be in progress at a time and queues the others."""
import dagster as dg

from pipelines.resources import WAREHOUSE_TAG

EXAM_SELECTION = dg.AssetSelection.groups("ingest", "validate", "score", "quantify", "print", "publish")
WRITES = {WAREHOUSE_TAG: "write"}

exam_job = dg.define_asset_job(
    "exam_job", selection=EXAM_SELECTION, executor_def=dg.in_process_executor, tags=WRITES,
    description="Ingest, validate, score, quantify and print one exam (partition = exam id).",
)

arrange_job = dg.define_asset_job(
    "arrange_job", selection=dg.AssetSelection.groups("arrange"), executor_def=dg.in_process_executor, tags=WRITES,
    description="Timetable, seating, invigilation and 考务 printouts for one exam, before it is sat.",
)
