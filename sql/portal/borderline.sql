-- The class's 临界生 (mart.borderline): listed to every teacher of the class, as the borderline
-- extract does.
SELECT b.line, b.track, b.student_id, st.name, b.total, b.line_score, b.distance, b.grade_rank
FROM mart.borderline b
LEFT JOIN mart.students st ON st.exam_id = b.exam_id AND st.student_id = b.student_id
WHERE b.exam_id = $exam_id AND b.class_id = $class_id
ORDER BY b.line_no, b.track, b.distance DESC, b.student_id
