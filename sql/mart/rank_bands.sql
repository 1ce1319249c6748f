-- mart.rank_bands (rules.md §6): per class and track, how many of the class's students are in the
-- track's top N by total (grade_rank ≤ N, so ties at the edge are all in), for every N of the
-- `rank_bands` setting; class_id = '*' counts the whole track.
WITH cfg AS (
    SELECT * FROM staging.quant_settings WHERE exam_id = getvariable('exam_id')
), t AS (
    SELECT * FROM staging.totals_ranked WHERE exam_id = getvariable('exam_id')
), tops AS (
    SELECT DISTINCT unnest(rank_bands) AS top FROM cfg
), counts AS (
    -- per class and for the whole track in one grouping
    SELECT CASE WHEN grouping(t.class_id) = 1 THEN '*' ELSE t.class_id END AS class_id, t.track, tops.top, count(*) AS n
    FROM t JOIN tops ON t.grade_rank <= tops.top
    GROUP BY GROUPING SETS ((t.track, tops.top, t.class_id), (t.track, tops.top))
), groups AS (
    SELECT DISTINCT class_id, track FROM t
    UNION ALL
    SELECT DISTINCT '*', track FROM t
)
SELECT getvariable('exam_id') AS exam_id, g.class_id, g.track, tops.top, coalesce(c.n, 0) AS n
FROM groups g CROSS JOIN tops
LEFT JOIN counts c ON c.class_id = g.class_id AND c.track = g.track AND c.top = tops.top
