"""Stage 2, validate: every abnormal script of rules.md §3, with the office's settlements applied."""

from assets._stage import stage_asset
from examflow import stages

DESCRIPTIONS = {
    "abnormal_scripts": "异常卷: one row per problem, its severity, treatment and settlement (open / settled).",
    "resolution_errors": "Resolutions that were rejected, with the reason; their problems stay open.",
}


validate = stage_asset("validate", DESCRIPTIONS, [["raw", "exam_files"]], stages.VALIDATE)
