-- mart.item_analysis (小题分析, rules.md §8): per subject × item over the `ok` scripts where the item
-- counted (an optional item: the scripts that chose it). difficulty = mean / full (得分率);
-- discrimination = (upper mean − lower mean) / full, the groups being the first and the last g
-- scripts in (raw subject score desc, student_id asc) order, g = 0.27 n rounded half up, at least 1;
-- item_total_r = Pearson r of item score and raw subject score (NULL when either is constant).
-- Items nobody's ok script reached are listed with n = 0 and NULL figures.
-- One pass of exact sums (macros.sql: exact) per item. A compulsory item's scripts are all the
-- subject's ok scripts, so their order is the subject's (staging.subject_ranked.score_order); an
-- optional item's scripts are ranked among themselves.
WITH items AS (
    SELECT * FROM raw.items WHERE exam_id = getvariable('exam_id')
), ok_counts AS (
    SELECT subject, count(*) AS n_item FROM staging.subject_ranked
    WHERE exam_id = getvariable('exam_id') AND status = 'ok' GROUP BY ALL
), placed AS (
    SELECT r.subject, r.item, r.score, r.raw_score, i.full_marks, r.score_order AS pos, c.n_item
    FROM item_results r
    JOIN items i ON i.subject = r.subject AND i.item = r.item AND i.optional_group IS NULL
    JOIN ok_counts c ON c.subject = r.subject
    UNION ALL
    SELECT r.subject, r.item, r.score, r.raw_score, i.full_marks,
        row_number() OVER (PARTITION BY r.subject, r.item ORDER BY r.raw_score DESC, r.student_id) AS pos,
        count(*) OVER (PARTITION BY r.subject, r.item) AS n_item
    FROM item_results r
    JOIN items i ON i.subject = r.subject AND i.item = r.item AND i.optional_group IS NOT NULL
), sums AS (
    SELECT subject, item, count(*) AS n, greatest(1, (27 * any_value(n_item) + 50) // 100) AS group_size,
        CAST(sum(exact(score)) AS DOUBLE) AS sx, CAST(sum(exact(score) * exact(score)) AS DOUBLE) AS sxx,
        CAST(sum(exact(raw_score)) AS DOUBLE) AS sy, CAST(sum(exact(raw_score) * exact(raw_score)) AS DOUBLE) AS syy,
        CAST(sum(exact(score) * exact(raw_score)) AS DOUBLE) AS sxy,
        CAST(sum(exact(score)) FILTER (WHERE pos <= greatest(1, (27 * n_item + 50) // 100)) AS DOUBLE) AS upper_sum,
        CAST(sum(exact(score)) FILTER (WHERE pos > n_item - greatest(1, (27 * n_item + 50) // 100)) AS DOUBLE) AS lower_sum,
        count(*) FILTER (WHERE score >= full_marks - 1e-9) AS n_full,
        count(*) FILTER (WHERE score <= 1e-9) AS n_zero,
        min(score) < max(score) AND min(raw_score) < max(raw_score) AS varies
    FROM placed GROUP BY subject, item
), agg AS (
    SELECT subject, item, n, group_size, n_full, n_zero, sx / n AS mean,
        sqrt(greatest(sxx / n - (sx / n) ** 2, 0)) AS sd,
        upper_sum / group_size AS upper_mean, lower_sum / group_size AS lower_mean,
        CASE WHEN varies THEN (sxy / n - (sx / n) * (sy / n))
            / sqrt(greatest(sxx / n - (sx / n) ** 2, 0) * greatest(syy / n - (sy / n) ** 2, 0)) END AS r
    FROM sums
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
FROM items i LEFT JOIN agg a ON a.subject = i.subject AND a.item = i.item
