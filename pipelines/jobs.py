"""Jobs: the post-exam job materialises every per-exam asset, in process, one step at a time (DuckDB
takes one writer)."""
import dagster as dg

EXAM_SELECTION = dg.AssetSelection.groups("ingest", "validate", "score", "quantify", "print", "publish")

exam_job = dg.define_asset_job(
    "exam_job", selection=EXAM_SELECTION, executor_def=dg.in_process_executor,
    description="Ingest, validate, score, quantify and print one exam (partition = exam id).",
)
