-- mart.exams: one row per exam with its headline counts.
SELECT e.exam_id, e.name, TRY_CAST(e.date AS DATE) AS date, e.grade, e.previous,
    (SELECT count(*) FROM staging.students s WHERE s.exam_id = e.exam_id) AS n_students,
    (SELECT count(*) FROM raw.scans s WHERE s.exam_id = e.exam_id) AS n_scripts,
    (SELECT count(*) FROM mart.abnormal_scripts a WHERE a.exam_id = e.exam_id AND a.status = 'open') AS n_abnormal_open,
    (SELECT count(*) FROM mart.abnormal_scripts a WHERE a.exam_id = e.exam_id AND a.status = 'open'
        AND a.severity = 'blocking') AS n_blocking_open,
    e.folder,
    now()::TIMESTAMP AS materialised_at
FROM raw.exams e WHERE e.exam_id = getvariable('exam_id')
