"""The SQL models of each pipeline stage, in the order they must run (raw -> staging -> mart)."""

VALIDATE = [
    "staging/students", "staging/expected", "staging/scripts", "staging/resolutions", "staging/script_owners",
    "staging/marks", "staging/item_scores", "staging/problems", "mart/abnormal_scripts", "mart/resolution_errors",
]
SCORE = [
    "staging/subject_status", "staging/subject_ranked", "staging/totals_ranked", "mart/students", "mart/item_scores",
    "mart/subject_scores", "mart/totals", "mart/reconciliation", "mart/exams",
]
