-- mart.class_quant (班级量化, rules.md §6): per class × subject × cohort track and per class × total
-- (subject = 'total') × track; class_id = '*' is the cohort's own row (the same figures over the whole
-- cohort, rank_by_mean NULL), and every class row also carries the cohort's figures (cohort_*).
-- Subjects use the raw score (reselect subjects too); totals the 新高考 total. With `previous`:
-- mean_change, rank_by_mean_change and value_added (staging.unit_quant, shared with school_quant).
SELECT exam_id, unit_id AS class_id, * EXCLUDE (exam_id, unit, unit_id)
FROM unit_quant WHERE unit IN ('class', 'cohort')
