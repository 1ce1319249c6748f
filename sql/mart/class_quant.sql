-- mart.class_quant (班级量化, rules.md §6): per class × subject × cohort track and per class × total
-- (subject = 'total') × track; class_id = '*' is the cohort's own row (the same figures over the whole
-- cohort, rank_by_mean NULL), and every class row also carries the cohort's figures (cohort_*).
-- Subjects use the raw score (reselect subjects too); totals the 新高考 total. With `previous`:
-- mean_change, rank_by_mean_change (positive = moved up) and value_added (z − previous z, where
-- z = (class mean − cohort mean) / cohort population sd), matched on class, subject and track.
SELECT c.exam_id, c.class_id, c.subject, c.track, c.role, c.full_marks,
    c.n_enrolled, c.n_sat, c.n_absent, c.n_pending, c.n_void,
    c.mean, c.sd, c.median, c.max, c.min,
    c.excellent_rate, c.good_rate, c.pass_rate, c.low_rate, c.mean_pct,
    c.mean_diff, c.mean_ratio, c.rank_by_mean, c.three_rates_one_score, c.z,
    c.mean - p.mean AS mean_change,
    p.rank_by_mean - c.rank_by_mean AS rank_by_mean_change,
    c.z - p.z AS value_added,
    c.cohort_n_sat, c.cohort_mean, c.cohort_sd, c.cohort_mean_pct, c.cohort_excellent_rate, c.cohort_good_rate,
    c.cohort_pass_rate, c.cohort_low_rate, c.cohort_three_rates_one_score,
    e.previous
FROM staging.class_stats c
JOIN raw.exams e ON e.exam_id = c.exam_id
LEFT JOIN staging.class_stats p ON p.exam_id = e.previous AND p.class_id = c.class_id AND p.subject = c.subject
    AND p.track = c.track
WHERE c.exam_id = getvariable('exam_id')
