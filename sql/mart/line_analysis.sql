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
), per_student AS (
    -- each student of the track in each subject they sit, per line
    SELECT l.track, l.line, q.class_id, q.subject, e.effective_score, q.student_id,
        q.status = 'ok' AND q.total_score >= e.effective_score - 1e-9 AS single,
        o.student_id IS NOT NULL AS is_over
    FROM lines l
    JOIN q ON q.student_track = l.track AND q.subject <> 'total'
    LEFT JOIN eff e ON e.track = l.track AND e.line = l.line AND e.subject = q.subject
    LEFT JOIN over o ON o.track = l.track AND o.line = l.line AND o.student_id = q.student_id
), subject_rows AS (
    -- per class, and the track as a whole ('*'), in one grouping
    SELECT track, line, CASE WHEN grouping(class_id) = 1 THEN '*' ELSE class_id END AS class_id, subject,
        any_value(effective_score) AS effective_score,
        CASE WHEN any_value(effective_score) IS NOT NULL THEN count(*) FILTER (WHERE single) END AS single_over,
        CASE WHEN any_value(effective_score) IS NOT NULL THEN count(*) FILTER (WHERE single AND is_over) END AS double_over
    FROM per_student GROUP BY GROUPING SETS ((track, line, subject, class_id), (track, line, subject))
), over_counts AS (
    SELECT track, line, CASE WHEN grouping(class_id) = 1 THEN '*' ELSE class_id END AS class_id,
        count(*) AS n_over_line
    FROM over GROUP BY GROUPING SETS ((track, line, class_id), (track, line))
), n_over AS (
    SELECT l.track, l.line, g.class_id, coalesce(c.n_over_line, 0) AS n_over_line
    FROM lines l JOIN groups g ON g.track = l.track
    LEFT JOIN over_counts c ON c.track = l.track AND c.line = l.line AND c.class_id = g.class_id
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
