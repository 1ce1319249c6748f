"""The Dagster code location: `dagster dev -w workspace.yaml` serves it."""
import dagster as dg

from assets import arrange, ingest, publish, quantify, score, validate
from assets.checks import CONTRACT_CHECKS
from pipelines.jobs import arrange_job, exam_job
from pipelines.resources import default_resources
from pipelines.sensors import exam_folder_sensor, nightly_rerun

import assets.print as printouts  # noqa: E402  (assets/print.py: `print` would shadow the builtin)

ASSETS = [ingest.raw_exam_files, validate.validate, score.score, quantify.quantify, *printouts.PRINT_ASSETS,
          publish.analyst_copy]
# arrangement runs before the exam, on its own job
ARRANGE_ASSETS = [arrange.arrangement]

defs = dg.Definitions(
    assets=[*ASSETS, *ARRANGE_ASSETS],
    asset_checks=CONTRACT_CHECKS,
    jobs=[exam_job, arrange_job],
    sensors=[exam_folder_sensor],
    schedules=[nightly_rerun],
    resources=default_resources(),
    executor=dg.in_process_executor,
)
