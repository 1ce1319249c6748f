-- mart.school_lines (rules.md §11): per school × cut line × track of the joint cohort (mart.cut_lines),
-- n_over = the school's students of the track whose total is at or over the line, over_rate = n_over /
-- the school's students of the track with an ok total (NULL when none); school = '*' is the joint
-- cohort. Joint exams only: no rows otherwise.
WITH lines AS (
    SELECT * FROM mart.cut_lines WHERE exam_id = getvariable('exam_id')
), tot AS (
    SELECT school, track, total FROM staging.totals_ranked
    WHERE exam_id = getvariable('exam_id') AND status = 'ok' AND school IS NOT NULL
), schools AS (
    SELECT DISTINCT school, track FROM staging.totals_ranked
    WHERE exam_id = getvariable('exam_id') AND school IS NOT NULL
), counts AS (
    SELECT CASE WHEN grouping(t.school) = 1 THEN '*' ELSE t.school END AS school, l.track, l.line,
        count(t.total) AS n_ok, count(t.total) FILTER (WHERE t.total >= l.line_score - 1e-9) AS n_over
    FROM lines l JOIN tot t ON t.track = l.track
    GROUP BY GROUPING SETS ((l.track, l.line, t.school), (l.track, l.line))
), units AS (
    SELECT school, track FROM schools
    UNION ALL
    SELECT DISTINCT '*', track FROM schools
)
SELECT getvariable('exam_id') AS exam_id, u.school, l.line, l.track, l.line_no, l.line_score,
    coalesce(c.n_over, 0) AS n_over, coalesce(c.n_ok, 0) AS n_ok,
    CASE WHEN c.n_ok > 0 THEN c.n_over / c.n_ok END AS over_rate
FROM lines l JOIN units u ON u.track = l.track
LEFT JOIN counts c ON c.school = u.school AND c.track = l.track AND c.line = l.line
