-- Each student's status in each subject they should sit or have a counted script in (rules.md §4):
-- void (voided by a settlement), absent, pending (an open blocking problem), else ok; and the raw
-- score of an ok subject.
WITH pairs AS (
    SELECT student_id, subject, true AS expected FROM staging.expected WHERE exam_id = getvariable('exam_id')
    UNION ALL
    SELECT so.owner, so.subject, false FROM staging.script_owners so
    WHERE so.exam_id = getvariable('exam_id') AND so.is_counting
      AND NOT EXISTS (SELECT 1 FROM staging.expected e WHERE e.exam_id = so.exam_id AND e.student_id = so.owner
                      AND e.subject = so.subject)
), ab AS (
    SELECT * FROM mart.abnormal_scripts WHERE exam_id = getvariable('exam_id')
), scores AS (
    -- per counted script (grouped by its number: integers, over millions of item rows), exact sums
    SELECT so.owner AS student_id, so.subject, x.*
    FROM (
        SELECT script_no, bool_or(present) AS present,
            CAST(sum(exact(score)) FILTER (WHERE counted) AS DOUBLE) AS raw_score,
            CAST(sum(exact(score)) FILTER (WHERE counted AND type <> 'subjective') AS DOUBLE) AS objective_score,
            CAST(sum(exact(score)) FILTER (WHERE counted AND type = 'subjective') AS DOUBLE) AS subjective_score,
            count(*) FILTER (WHERE counted AND score IS NULL) AS n_unscored
        FROM staging.item_scores WHERE exam_id = getvariable('exam_id')
        GROUP BY script_no
    ) x
    JOIN staging.script_owners so ON so.exam_id = getvariable('exam_id') AND so.script_no = x.script_no
), flags AS (
    SELECT student_id, subject,
        bool_or(status = 'open' AND severity = 'blocking') AS open_blocking,
        bool_or(status = 'settled' AND action = 'void' AND code IN ('PAGE_MISSING', 'MARKER_FLAGGED', 'VERSION_UNKNOWN')) AS voided,
        bool_or(status = 'settled' AND action = 'mark_absent') AS marked_absent
    FROM ab WHERE student_id IS NOT NULL GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, p.student_id, p.subject, p.expected, s.script_no,
    CASE WHEN coalesce(f.voided, false) THEN 'void'
         WHEN coalesce(f.marked_absent, false) THEN 'absent'
         WHEN coalesce(f.open_blocking, false) THEN 'pending'
         WHEN NOT s.present THEN 'absent'
         WHEN s.present IS NULL OR s.n_unscored > 0 THEN 'pending'
         ELSE 'ok' END AS status,
    s.raw_score AS scored_raw, s.objective_score, s.subjective_score
FROM pairs p
LEFT JOIN scores s ON s.student_id = p.student_id AND s.subject = p.subject
LEFT JOIN flags f ON f.student_id = p.student_id AND f.subject = p.subject
