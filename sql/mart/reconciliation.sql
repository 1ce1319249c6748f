-- mart.reconciliation (扫描核对): per subject and class, who should sit, who was scanned, absent,
-- missing, and the open abnormal scripts.
WITH s AS (
    SELECT ss.subject, ss.class_id, ss.student_id, ss.expected, ss.status,
        EXISTS (SELECT 1 FROM staging.script_owners so WHERE so.exam_id = ss.exam_id AND so.owner = ss.student_id
                AND so.subject = ss.subject AND so.is_counting) AS scanned
    FROM staging.subject_ranked ss WHERE ss.exam_id = getvariable('exam_id')
), ab AS (
    SELECT a.subject, coalesce(st.class_id, '?') AS class_id, count(*) AS n_open
    FROM mart.abnormal_scripts a LEFT JOIN staging.students st ON st.exam_id = a.exam_id AND st.student_id = a.student_id
    WHERE a.exam_id = getvariable('exam_id') AND a.status = 'open'
    GROUP BY ALL
), agg AS (
    SELECT subject, class_id,
        count(*) FILTER (WHERE expected) AS n_expected,
        count(*) FILTER (WHERE scanned) AS n_scanned,
        count(*) FILTER (WHERE status = 'absent') AS n_absent,
        count(*) FILTER (WHERE expected AND NOT scanned AND status <> 'absent') AS n_missing
    FROM s GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, coalesce(agg.subject, ab.subject) AS subject,
    coalesce(agg.class_id, ab.class_id) AS class_id,
    coalesce(n_expected, 0) AS n_expected, coalesce(n_scanned, 0) AS n_scanned, coalesce(n_absent, 0) AS n_absent,
    coalesce(n_missing, 0) AS n_missing, coalesce(ab.n_open, 0) AS n_abnormal_open
FROM agg FULL OUTER JOIN ab ON ab.subject = agg.subject AND ab.class_id = agg.class_id
