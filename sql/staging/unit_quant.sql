-- staging.unit_stats compared with `previous` (rules.md §6, §11), for classes, schools and the cohort
-- alike: mean_change, rank_by_mean_change (positive = moved up) and value_added (z − previous z,
-- where z = (unit mean − cohort mean) / cohort population sd), matched on unit, subject and track.
-- Ephemeral: mart.class_quant and mart.school_quant each take their units from it.
SELECT c.exam_id, c.unit, c.unit_id, c.subject, c.track, c.role, c.full_marks,
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
FROM staging.unit_stats c
JOIN raw.exams e ON e.exam_id = c.exam_id
LEFT JOIN staging.unit_stats p ON p.exam_id = e.previous AND p.unit = c.unit AND p.unit_id = c.unit_id
    AND p.subject = c.subject AND p.track = c.track
WHERE c.exam_id = getvariable('exam_id')
