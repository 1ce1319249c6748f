-- The 新高考 total (core raw + first-choice raw + reselect converted) and the all-raw total, over
-- the subjects each student should sit; ranked within the track (rules.md §4), and in a joint exam
-- within the school and track too (school_rank, §11; school and school_rank are NULL otherwise).
WITH t AS (
    SELECT st.exam_id, st.student_id, st.class_id, CASE WHEN st.joint THEN st.school END AS school, st.track,
        count(s.subject) AS n_subjects,
        count(*) FILTER (WHERE s.status = 'pending') AS n_pending,
        count(*) FILTER (WHERE s.status <> 'ok') AS n_not_ok,
        sum(s.total_score) AS total_sum, sum(s.raw_score) AS raw_sum
    FROM staging.students st
    LEFT JOIN staging.subject_ranked s ON s.exam_id = st.exam_id AND s.student_id = st.student_id AND s.expected
    WHERE st.exam_id = getvariable('exam_id')
    GROUP BY ALL
), st AS (
    SELECT *, CASE WHEN n_subjects > 0 AND n_not_ok = 0 THEN 'ok' WHEN n_pending > 0 THEN 'pending' ELSE 'incomplete' END AS status
    FROM t
)
SELECT exam_id, student_id, class_id, school, track, status,
    CASE WHEN status = 'ok' THEN total_sum END AS total,
    CASE WHEN status = 'ok' THEN raw_sum END AS raw_total,
    CASE WHEN status = 'ok' THEN rank() OVER (PARTITION BY track, status = 'ok' ORDER BY total_sum DESC) END AS grade_rank,
    CASE WHEN status = 'ok' THEN rank() OVER (PARTITION BY track, class_id, status = 'ok' ORDER BY total_sum DESC) END AS class_rank,
    CASE WHEN status = 'ok' AND school IS NOT NULL THEN rank() OVER (PARTITION BY track, school, status = 'ok'
                                                                     ORDER BY total_sum DESC) END AS school_rank
FROM st
