-- mart.item_analysis (小题分析, rules.md §8): per subject × item over the `ok` scripts where the item
-- counted (an optional item: the scripts that chose it). difficulty = mean / full (得分率);
-- discrimination = (upper mean − lower mean) / full, the groups being the first and the last g
-- scripts in (raw subject score desc, student_id asc) order, g = 0.27 n rounded half up, at least 1;
-- item_total_r = Pearson r of item score and raw subject score (NULL when either is constant).
-- Items nobody's ok script reached are listed with n = 0 and NULL figures.
WITH r AS (
    SELECT *,
        row_number() OVER (PARTITION BY subject, item ORDER BY raw_score DESC, student_id) AS pos,
        count(*) OVER (PARTITION BY subject, item) AS n_item
    FROM staging.item_results WHERE exam_id = getvariable('exam_id')
), g AS (
    SELECT *, greatest(1, (27 * n_item + 50) // 100) AS group_size FROM r
), lists AS (
    -- the scores in a fixed order (raw score desc, student_id), so that a re-run gives the same bits
    SELECT subject, item, count(*) AS n, any_value(group_size) AS group_size,
        list(score ORDER BY pos) AS xs, list(raw_score ORDER BY pos) AS ys,
        list(score ORDER BY pos) FILTER (WHERE pos <= group_size) AS upper_xs,
        list(score ORDER BY pos) FILTER (WHERE pos > n_item - group_size) AS lower_xs,
        count(*) FILTER (WHERE score >= full_marks - 1e-9) AS n_full,
        count(*) FILTER (WHERE score <= 1e-9) AS n_zero,
        count(DISTINCT score) > 1 AND count(DISTINCT raw_score) > 1 AS varies
    FROM g GROUP BY ALL
), moments AS (
    SELECT *, list_avg(xs) AS mean, list_avg(ys) AS mean_raw FROM lists
), agg AS (
    SELECT subject, item, n, group_size, n_full, n_zero, mean,
        list_aggregate(xs, 'stddev_pop') AS sd,
        list_avg(upper_xs) AS upper_mean, list_avg(lower_xs) AS lower_mean,
        CASE WHEN varies THEN list_sum([(xs[k] - mean) * (ys[k] - mean_raw) FOR k IN range(1, n + 1)])
          / sqrt(list_sum([(xs[k] - mean) ** 2 FOR k IN range(1, n + 1)])
                 * list_sum([(ys[k] - mean_raw) ** 2 FOR k IN range(1, n + 1)])) END AS r
    FROM moments
)
SELECT getvariable('exam_id') AS exam_id, i.subject, i.item, i.type, i.full_marks, i.position,
    i.optional_group IS NOT NULL AS optional, i.knowledge,
    coalesce(a.n, 0) AS n, a.mean, a.sd,
    CASE WHEN i.full_marks > 0 THEN a.mean / i.full_marks END AS difficulty,
    CASE WHEN i.full_marks > 0 THEN (a.upper_mean - a.lower_mean) / i.full_marks END AS discrimination,
    a.group_size,
    CASE WHEN isnan(a.r) OR isinf(a.r) THEN NULL ELSE a.r END AS item_total_r,
    a.n_full / a.n AS full_rate,
    a.n_zero / a.n AS zero_rate
FROM raw.items i LEFT JOIN agg a ON a.subject = i.subject AND a.item = i.item
WHERE i.exam_id = getvariable('exam_id')
