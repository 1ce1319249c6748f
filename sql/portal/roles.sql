-- The teacher's roles in one exam (teachers.csv, as extract_scope reads it).
SELECT DISTINCT unnest(roles) AS role FROM extract_scope($exam_id, $teacher_id) ORDER BY role
