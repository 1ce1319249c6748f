"""The SQL models of each pipeline stage, in the order they must run (raw -> staging -> mart).

A model is a table by default: running it replaces the exam's rows. Two others, in dbt's terms:
- EPHEMERAL: a temp view (named after the table) that the later models of the same stage read and
  nothing stores; for joins cheaper to repeat than to write (item rows: 8 M per 50,000 students);
- VIEWS: a view over every exam's rows (its SQL does not filter by exam), for a mart table that is a
  projection of a staging one: the same rows without a second copy.
"""

VALIDATE = [
    "staging/students", "staging/expected", "staging/scripts", "staging/resolutions", "staging/script_owners",
    "staging/marks", "staging/item_scores", "staging/problems", "mart/abnormal_scripts", "mart/resolution_errors",
]
SCORE = [
    "staging/subject_status", "staging/subject_ranked", "staging/totals_ranked", "mart/students", "mart/item_scores",
    "mart/subject_scores", "mart/totals", "mart/reconciliation", "mart/exams",
]
QUANTIFY = [
    "staging/quant_settings", "staging/quant_scores", "staging/unit_stats", "staging/unit_quant", "mart/class_quant",
    "mart/school_quant", "mart/rank_bands", "mart/cut_lines", "mart/line_analysis", "mart/school_lines", "mart/borderline", "staging/teacher_roles", "mart/teacher_quant",
    "mart/quant_formula", "mart/marker_quality", "staging/item_results", "mart/item_analysis", "mart/item_options",
    "mart/class_items", "mart/subject_reliability", "mart/knowledge",
]

EPHEMERAL = {"staging/item_results", "staging/unit_quant"}
VIEWS = {"mart/item_scores"}
