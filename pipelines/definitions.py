"""The Dagster code location: `dagster dev -w workspace.yaml` serves it."""
import dagster as dg

from assets import ingest, publish, score, validate
from assets.checks import CONTRACT_CHECKS
from pipelines.jobs import exam_job
from pipelines.resources import default_resources

ASSETS = [ingest.raw_exam_files, validate.validate, score.score, publish.analyst_copy]

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CONTRACT_CHECKS,
    jobs=[exam_job],
    resources=default_resources(),
    executor=dg.in_process_executor,
)
