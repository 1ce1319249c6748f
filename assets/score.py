"""Stage 3, score: item, subject and total scores, 赋分, ranks, and the reconciliation of scripts."""

import dagster as dg

from assets._stage import mart_specs, run_stage
from examflow import stages
from pipelines.partitions import exam_partitions
from pipelines.resources import WarehouseResource

DESCRIPTIONS = {
    "students": "The roster: class_id, track, electives, exam number.",
    "item_scores": "Every item of every counted script: response, score, counted.",
    "subject_scores": "Status, raw and converted score, band, grade and class rank, rank change per subject.",
    "totals": "新高考 total and raw total, ranked within the track.",
    "reconciliation": "扫描核对: who should sit, who was scanned, absent, missing, open problems.",
    "exams": "One row per exam with its headline counts.",
}


@dg.multi_asset(specs=mart_specs(list(DESCRIPTIONS), "score", [["mart", "abnormal_scripts"]], DESCRIPTIONS),
                name="score", partitions_def=exam_partitions, can_subset=True)
def score(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    yield from run_stage(context, warehouse, stages.SCORE)
