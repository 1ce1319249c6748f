-- Knowledge-point score rates of the class against the cohort's (mart.knowledge).
SELECT knowledge, n_items, score_rate, cohort_score_rate, score_rate_diff
FROM mart.knowledge
WHERE exam_id = $exam_id AND class_id = $class_id AND subject = $subject
ORDER BY score_rate_diff NULLS LAST, knowledge
