-- The class's students, one row per student × subject shown (the total from mart.totals).
WITH cells AS (
    SELECT student_id, subject, status, raw_score AS score, converted_score, grade_rank, class_rank, rank_change
    FROM mart.subject_scores WHERE exam_id = $exam_id AND class_id = $class_id AND list_contains($subjects, subject)
    UNION ALL
    SELECT student_id, 'total', status, total, NULL, grade_rank, class_rank, rank_change
    FROM mart.totals WHERE exam_id = $exam_id AND class_id = $class_id AND list_contains($subjects, 'total')
)
SELECT st.student_id, st.name, c.subject, c.status, c.score, c.converted_score, c.grade_rank, c.class_rank,
    c.rank_change
FROM mart.students st
LEFT JOIN cells c ON c.student_id = st.student_id
WHERE st.exam_id = $exam_id AND st.class_id = $class_id
ORDER BY st.student_id, c.subject
