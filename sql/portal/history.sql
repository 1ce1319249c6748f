-- One student's scores and ranks in every exam of the copy, oldest first, for the subjects shown
-- (those the account sees for the student's class in the exam asked about), as student_history.
WITH cells AS (
    SELECT exam_id, subject, status, raw_score AS score, converted_score, grade_rank, class_rank, rank_change
    FROM mart.subject_scores WHERE student_id = $student_id AND list_contains($subjects, subject)
    UNION ALL
    SELECT exam_id, 'total', status, total, NULL, grade_rank, class_rank, rank_change
    FROM mart.totals WHERE student_id = $student_id AND list_contains($subjects, 'total')
)
SELECT c.exam_id, e.name AS exam_name, e.date, c.subject,
    coalesce(sb.name, CASE WHEN c.subject = 'total' THEN '总分' END, c.subject) AS subject_name,
    coalesce(sb.position, 1000000) AS position, c.status, c.score, c.converted_score, c.grade_rank, c.class_rank,
    c.rank_change
FROM cells c
JOIN mart.exams e ON e.exam_id = c.exam_id
LEFT JOIN raw.subjects sb ON sb.exam_id = c.exam_id AND sb.subject = c.subject
ORDER BY e.date NULLS LAST, c.exam_id, position
