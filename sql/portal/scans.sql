-- The scanned images of one student's scripts in one exam (office only).
SELECT subject, image FROM staging.script_owners
WHERE exam_id = $exam_id AND owner = $student_id AND image IS NOT NULL AND NOT discarded
ORDER BY subject
