-- Cut-line analysis of the class for the subjects shown ('total' rows carry the line itself).
SELECT l.line, l.track, l.subject,
    coalesce(s.name, CASE WHEN l.subject = 'total' THEN '总分' END, l.subject) AS subject_name,
    l.effective_score, l.n_over_line, l.single_over, l.double_over, l.hit_rate, l.contribution_rate
FROM mart.line_analysis l
LEFT JOIN raw.subjects s ON s.exam_id = l.exam_id AND s.subject = l.subject
WHERE l.exam_id = $exam_id AND l.class_id = $class_id AND list_contains($subjects, l.subject)
ORDER BY l.track, l.line_no, coalesce(s.position, 1000000)
