-- The class against the cohort (class_quant's cohort_* columns) for the subjects shown.
SELECT q.subject, coalesce(s.name, CASE WHEN q.subject = 'total' THEN '总分' END, q.subject) AS subject_name,
    q.track, q.full_marks, q.n_enrolled, q.n_sat, q.n_absent, q.mean, q.cohort_mean, q.mean_diff, q.mean_ratio,
    q.max, q.min, q.excellent_rate, q.cohort_excellent_rate, q.good_rate, q.cohort_good_rate, q.pass_rate,
    q.cohort_pass_rate, q.low_rate, q.cohort_low_rate, q.rank_by_mean, q.mean_change, q.rank_by_mean_change
FROM mart.class_quant q
LEFT JOIN raw.subjects s ON s.exam_id = q.exam_id AND s.subject = q.subject
WHERE q.exam_id = $exam_id AND q.class_id = $class_id AND list_contains($subjects, q.subject)
ORDER BY coalesce(s.position, 1000000), q.track
