-- The abnormal-script queue of one exam, open first (as `examflow abnormal`).
SELECT abnormal_id, code, severity, status, subject, exam_no, student_id, item, detail, source_file, source_row,
    action, settled_by, settled_at
FROM mart.abnormal_scripts
WHERE exam_id = $exam_id
ORDER BY status = 'settled', severity <> 'blocking', abnormal_id
