-- mart.totals: one row per student of the roster; rank_change against `previous`.
SELECT t.exam_id, t.student_id, t.class_id, t.track, t.status, t.total, t.raw_total, t.grade_rank, t.class_rank,
    t.school_rank, p.grade_rank - t.grade_rank AS rank_change
FROM staging.totals_ranked t
LEFT JOIN raw.exams e ON e.exam_id = t.exam_id
LEFT JOIN staging.totals_ranked p ON p.exam_id = e.previous AND p.student_id = t.student_id
WHERE t.exam_id = getvariable('exam_id')
