-- mart.line_analysis (上线分析, rules.md §6): per class × subject × line of the class's students of
-- the line's track, and the track as a whole (class_id = '*'). 有效分 (effective_score): the mean
-- score entering the total (raw; converted for reselect subjects) of the track's students whose
-- total ≥ the line. single_over: students with an ok subject score ≥ 有效分, whether or not they
-- have a total; double_over: those of them whose total ≥ the line; hit_rate = double / single;
-- contribution_rate = double_over / n_over_line (the class's students over the line). Rows with
-- subject = 'total' carry the line itself: effective_score = line_score, single = double = n_over_line.
-- Rates with a zero denominator (and every figure when nobody is over the line) are NULL.
WITH lines AS (
    SELECT * FROM mart.cut_lines WHERE exam_id = getvariable('exam_id')
), q AS (
    SELECT * FROM staging.quant_scores WHERE exam_id = getvariable('exam_id')
), tot AS (
    SELECT student_id, class_id, track, total FROM staging.totals_ranked
    WHERE exam_id = getvariable('exam_id') AND status = 'ok'
), groups AS (
    SELECT DISTINCT track, class_id FROM staging.students WHERE exam_id = getvariable('exam_id')
    UNION
    SELECT DISTINCT track, '*' FROM staging.students WHERE exam_id = getvariable('exam_id')
), over AS (
    SELECT l.track, l.line, t.student_id, t.class_id FROM lines l JOIN tot t ON t.track = l.track AND t.total >= l.line_score - 1e-9
), eff AS (
    -- 有效分 per line and subject: over the students over the line (all their subjects are ok)
    SELECT l.track, l.line, q.subject, list_avg(list(q.total_score ORDER BY q.student_id)) AS effective_score
    FROM lines l JOIN over o ON o.track = l.track AND o.line = l.line
    JOIN q ON q.student_id = o.student_id AND q.subject <> 'total' AND q.expected AND q.status = 'ok'
    GROUP BY ALL
), subjects AS (
    -- the subjects the track's students sit, per class
    SELECT DISTINCT l.track, l.line, q.class_id, q.subject
    FROM lines l JOIN q ON q.student_track = l.track AND q.subject <> 'total'
), cells AS (
    SELECT track, line, class_id, subject FROM subjects
    UNION
    SELECT track, line, '*', subject FROM subjects
), per_student AS (
    SELECT c.track, c.line, c.class_id, c.subject, e.effective_score, q.student_id,
        q.status = 'ok' AND q.total_score >= e.effective_score - 1e-9 AS single,
        o.student_id IS NOT NULL AS is_over
    FROM cells c
    LEFT JOIN eff e ON e.track = c.track AND e.line = c.line AND e.subject = c.subject
    JOIN q ON q.student_track = c.track AND q.subject = c.subject AND (c.class_id = '*' OR q.class_id = c.class_id)
    LEFT JOIN over o ON o.track = c.track AND o.line = c.line AND o.student_id = q.student_id
), subject_rows AS (
    SELECT track, line, class_id, subject, any_value(effective_score) AS effective_score,
        CASE WHEN any_value(effective_score) IS NOT NULL THEN count(*) FILTER (WHERE single) END AS single_over,
        CASE WHEN any_value(effective_score) IS NOT NULL THEN count(*) FILTER (WHERE single AND is_over) END AS double_over
    FROM per_student GROUP BY ALL
), n_over AS (
    SELECT l.track, l.line, g.class_id,
        count(o.student_id) AS n_over_line
    FROM lines l JOIN groups g ON g.track = l.track
    LEFT JOIN over o ON o.track = l.track AND o.line = l.line AND (g.class_id = '*' OR o.class_id = g.class_id)
    GROUP BY ALL
), total_rows AS (
    SELECT n.track, n.line, n.class_id, 'total' AS subject, l.line_score AS effective_score,
        n.n_over_line AS single_over, n.n_over_line AS double_over
    FROM n_over n JOIN lines l ON l.track = n.track AND l.line = n.line
)
SELECT getvariable('exam_id') AS exam_id, r.class_id, r.subject, r.line, r.track, l.line_no, l.line_score,
    r.effective_score, n.n_over_line, r.single_over, r.double_over,
    CASE WHEN r.single_over > 0 THEN r.double_over / r.single_over END AS hit_rate,
    CASE WHEN n.n_over_line > 0 THEN r.double_over / n.n_over_line END AS contribution_rate
FROM (SELECT * FROM subject_rows UNION ALL BY NAME SELECT * FROM total_rows) r
JOIN lines l ON l.track = r.track AND l.line = r.line
JOIN n_over n ON n.track = r.track AND n.line = r.line AND n.class_id = r.class_id
