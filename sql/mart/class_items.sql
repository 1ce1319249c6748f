-- mart.class_items (rules.md §8): per class × subject × item over the class's `ok` scripts (where the
-- item counted): n, mean, difficulty = mean / full, and difficulty_diff = class − cohort difficulty
-- (the cohort: every ok script of the subject, as in mart.item_analysis). Exact sums (macros.sql).
WITH classes AS (
    SELECT class_id, subject, item, count(*) AS n, sum(exact(score)) AS score_sum
    FROM item_results GROUP BY ALL
), cohort AS (
    SELECT subject, item, CAST(sum(score_sum) AS DOUBLE) / sum(n) AS mean FROM classes GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, c.class_id, c.subject, c.item, i.position, c.n,
    CAST(c.score_sum AS DOUBLE) / c.n AS mean,
    CAST(c.score_sum AS DOUBLE) / c.n / nullif(i.full_marks, 0) AS difficulty,
    co.mean / nullif(i.full_marks, 0) AS cohort_difficulty,
    CAST(c.score_sum AS DOUBLE) / c.n / nullif(i.full_marks, 0) - co.mean / nullif(i.full_marks, 0) AS difficulty_diff
FROM classes c
JOIN cohort co ON co.subject = c.subject AND co.item = c.item
JOIN raw.items i ON i.exam_id = getvariable('exam_id') AND i.subject = c.subject AND i.item = c.item
