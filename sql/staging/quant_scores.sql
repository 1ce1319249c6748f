-- One row per student and subject they sit (or have a counted script in), and per student for the
-- total (subject = 'total'): the class, the school (joint exams, else NULL), the cohort track, the
-- status and the score class and school statistics use (rules.md §4, §6, §11): a subject's raw score (reselect subjects too), the 新高考 total.
-- full_marks: the subject's; for totals the sum of the full marks entering the total (a reselect
-- subject counting the top of its converted scale), the most common such sum of the track.
WITH cfg AS (
    SELECT * FROM staging.quant_settings WHERE exam_id = getvariable('exam_id')
), subj AS (
    SELECT s.exam_id, s.student_id, s.subject, s.class_id, s.school, s.track AS student_track, s.cohort_track AS track, s.role,
        s.expected, s.status, s.raw_score AS score, s.total_score, sub.full_marks,
        CASE WHEN s.role = 'reselect' THEN cfg.converted_top ELSE sub.full_marks END AS total_full
    FROM staging.subject_ranked s
    JOIN raw.subjects sub ON sub.exam_id = s.exam_id AND sub.subject = s.subject, cfg
    WHERE s.exam_id = getvariable('exam_id')
), student_full AS (
    SELECT student_id, sum(total_full) AS full_marks FROM subj WHERE expected GROUP BY ALL
), totals AS (
    SELECT t.exam_id, t.student_id, t.class_id, t.school, t.track, t.status, t.total, f.full_marks
    FROM staging.totals_ranked t LEFT JOIN student_full f ON f.student_id = t.student_id
    WHERE t.exam_id = getvariable('exam_id')
), track_full AS (
    SELECT track, arg_max(full_marks, n + full_marks / 1e9) AS full_marks FROM (
        SELECT track, full_marks, count(*) AS n FROM totals WHERE full_marks IS NOT NULL GROUP BY track, full_marks
    ) GROUP BY track
)
SELECT exam_id, student_id, subject, class_id, school, student_track, track, role, expected, status, score, total_score,
    full_marks
FROM subj
UNION ALL BY NAME
SELECT t.exam_id, t.student_id, 'total' AS subject, t.class_id, t.school, t.track AS student_track, t.track,
    'total' AS role,
    true AS expected, t.status, t.total AS score, t.total AS total_score, tf.full_marks
FROM totals t LEFT JOIN track_full tf ON tf.track = t.track
