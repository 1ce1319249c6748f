-- mart.rank_bands (rules.md §6): per class and track, how many of the class's students are in the
-- track's top N by total (grade_rank ≤ N, so ties at the edge are all in), for every N of the
-- `rank_bands` setting; class_id = '*' counts the whole track.
WITH cfg AS (
    SELECT * FROM staging.quant_settings WHERE exam_id = getvariable('exam_id')
), t AS (
    SELECT * FROM staging.totals_ranked WHERE exam_id = getvariable('exam_id')
), tops AS (
    SELECT DISTINCT unnest(rank_bands) AS top FROM cfg
), groups AS (
    SELECT DISTINCT class_id, track FROM t
    UNION ALL
    SELECT DISTINCT '*', track FROM t
)
SELECT getvariable('exam_id') AS exam_id, g.class_id, g.track, tops.top,
    (SELECT count(*) FROM t WHERE t.track = g.track AND (g.class_id = '*' OR t.class_id = g.class_id)
        AND t.grade_rank <= tops.top) AS n
FROM groups g, tops
