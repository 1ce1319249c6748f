"""Stage 2, validate: every abnormal script of rules.md §3, with the office's settlements applied."""

import dagster as dg

from assets._stage import mart_specs, run_stage
from examflow import stages
from pipelines.partitions import exam_partitions
from pipelines.resources import WarehouseResource

DESCRIPTIONS = {
    "abnormal_scripts": "异常卷: one row per problem, its severity, treatment and settlement (open / settled).",
    "resolution_errors": "Resolutions that were rejected, with the reason; their problems stay open.",
}


@dg.multi_asset(specs=mart_specs(list(DESCRIPTIONS), "validate", [["raw", "exam_files"]], DESCRIPTIONS),
                name="validate", partitions_def=exam_partitions, can_subset=True)
def validate(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    yield from run_stage(context, warehouse, stages.VALIDATE)
