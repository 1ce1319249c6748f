"""Stage 4, quantify: class, cut-line, teacher, marker, item and knowledge-point quantification tables
(rules.md §6–§8), as SQL models over the score stage's tables."""

from assets._stage import stage_asset
from assets.score import DESCRIPTIONS as SCORE_TABLES
from examflow import stages

DESCRIPTIONS = {
    "class_quant": "班级量化: per class × subject (and total) × track: counts, mean, sd, rates, 三率一分, "
                   "rank by mean, change and value added against `previous`; class_id '*' is the cohort.",
    "school_quant": "学校量化 (joint exams): class_quant's figures per school × subject (and total) × track against "
                    "the joint cohort, rank by mean among the schools, change against a previous joint exam.",
    "school_lines": "Joint exams: per school × cut line × track, students over the line and the over rate.",
    "rank_bands": "Per class and track: students in the track's top N by total, for every N of `rank_bands`.",
    "cut_lines": "上线分析: every cut line per track with its score (top N or given) and the number over it.",
    "line_analysis": "Per class × subject × line: 有效分, n over the line, single/double over, hit and "
                     "contribution rates.",
    "borderline": "临界生: students whose total is within the band around a line, with their distance to it.",
    "teacher_quant": "教师量化: per teacher × class × subject (and pooled, class '*'), head teachers on the "
                     "class total, with quant_score.",
    "quant_formula": "The teacher quantification formula in force, as printed under every teacher table.",
    "marker_quality": "阅卷质量: per marker × subject × item × role (first, second, arbitration): marks given, "
                      "mean, sd, disagreement rate, mean |diff|, marks an arbitration replaced.",
    "item_analysis": "小题分析: per item: n, mean, difficulty, discrimination (27% groups), item-total r, "
                     "full and zero rates.",
    "item_options": "Per objective item (pooled, paper_version '*', and per AB version): share of each option, "
                    "blank and invalid.",
    "class_items": "Per class × item: difficulty and its difference to the cohort.",
    "subject_reliability": "Per subject: Cronbach's alpha over the non-optional items.",
    "knowledge": "Per class × subject × knowledge point: score rate (class '*' = cohort) and its difference.",
}


quantify = stage_asset("quantify", DESCRIPTIONS, [["mart", n] for n in SCORE_TABLES], stages.QUANTIFY)
