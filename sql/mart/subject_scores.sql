-- mart.subject_scores: one row per student and subject they sit; rank_change against `previous`.
-- expected: the roster says the student sits the subject (false for a NOT_ENROLLED script counted).
SELECT s.exam_id, s.student_id, s.subject, s.class_id, s.track, s.cohort_track, s.status,
    s.expected,
    s.raw_score, s.objective_score, s.subjective_score, s.converted_score, s.band, s.total_score,
    s.grade_rank, s.class_rank, s.school_rank, p.grade_rank - s.grade_rank AS rank_change
FROM staging.subject_ranked s
LEFT JOIN raw.exams e ON e.exam_id = s.exam_id
LEFT JOIN staging.subject_ranked p ON p.exam_id = e.previous AND p.student_id = s.student_id AND p.subject = s.subject
WHERE s.exam_id = getvariable('exam_id')
