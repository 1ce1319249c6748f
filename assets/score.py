"""Stage 3, score: item, subject and total scores, 赋分, ranks, and the reconciliation of scripts."""

from assets._stage import stage_asset
from examflow import stages

DESCRIPTIONS = {
    "students": "The roster: class_id, track, electives, exam number.",
    "item_scores": "Every item of every counted script: response, score, counted.",
    "subject_scores": "Status, raw and converted score, band, grade and class rank, rank change per subject.",
    "totals": "新高考 total and raw total, ranked within the track.",
    "reconciliation": "扫描核对: who should sit, who was scanned, absent, missing, open problems.",
    "exams": "One row per exam with its headline counts.",
}


score = stage_asset("score", DESCRIPTIONS, [["mart", "abnormal_scripts"]], stages.SCORE)
