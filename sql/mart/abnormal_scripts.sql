-- mart.abnormal_scripts: every problem with its severity, default treatment and settlement. A
-- problem is settled by the newest resolution of its id when that resolution is valid.
SELECT
    p.exam_id, p.abnormal_id, p.code, c.severity,
    CASE WHEN r.abnormal_id IS NOT NULL THEN 'settled' ELSE 'open' END AS status,
    p.subject, p.exam_no, p.student_id, p.item, p.detail, p.source_file, p.source_row, p.image,
    c.treatment, c.settles,
    r.action, r.value AS action_value, r.operator AS settled_by, r."at" AS settled_at, r.note
FROM staging.problems p
JOIN staging.abnormal_codes c ON c.code = p.code
LEFT JOIN staging.resolutions r ON r.exam_id = p.exam_id AND r.abnormal_id = p.abnormal_id AND r.is_latest
    AND r.static_error IS NULL
WHERE p.exam_id = getvariable('exam_id')
