-- The cells (class × subject, 'total' included) the account sees in one exam, with subject names,
-- in class and subject order.
SELECT c.class_id, c.subject,
    coalesce(s.name, CASE WHEN c.subject = 'total' THEN '总分' END, c.subject) AS subject_name,
    coalesce(s.position, 1000000) AS position
FROM portal_cells($exam_id, $teacher_id, $office) c
LEFT JOIN raw.subjects s ON s.exam_id = $exam_id AND s.subject = c.subject
ORDER BY TRY_CAST(c.class_id AS BIGINT) NULLS LAST, c.class_id, position
