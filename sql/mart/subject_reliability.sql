-- mart.subject_reliability (rules.md §8): Cronbach's alpha per subject over its non-optional items
-- and its `ok` scripts: alpha = k/(k−1) × (1 − Σ var(item) / var(Σ items)), population variances
-- (the n/(n−1) factors cancel). NULL with fewer than two items, two scripts, or no variance.
-- Exact sums (macros.sql).
WITH r AS (
    SELECT r.subject, r.item, r.student_id, exact(r.score) AS x
    FROM item_results r
    JOIN raw.items i ON i.exam_id = getvariable('exam_id') AND i.subject = r.subject AND i.item = r.item
        AND i.optional_group IS NULL
), item_var AS (
    SELECT subject, item,
        CAST(sum(x * x) AS DOUBLE) / count(*) - (CAST(sum(x) AS DOUBLE) / count(*)) ** 2 AS v
    FROM r GROUP BY ALL
), sums AS (
    SELECT subject, student_id, sum(x) AS s FROM r GROUP BY ALL
), per_subject AS (
    SELECT subject, count(*) AS n,
        CAST(sum(s * s) AS DOUBLE) / count(*) - (CAST(sum(s) AS DOUBLE) / count(*)) ** 2 AS total_var
    FROM sums GROUP BY ALL
), item_var_sum AS (
    SELECT subject, list_sum(list(v ORDER BY item)) AS item_var_sum FROM item_var GROUP BY ALL
), k AS (
    SELECT subject, count(*) FILTER (WHERE optional_group IS NULL) AS k
    FROM raw.items WHERE exam_id = getvariable('exam_id') GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, sub.subject, coalesce(p.n, 0) AS n, k.k AS n_items,
    CASE WHEN k.k >= 2 AND p.n >= 2 AND p.total_var > 1e-12
         THEN k.k / (k.k - 1) * (1 - v.item_var_sum / p.total_var) END AS alpha
FROM raw.subjects sub
JOIN k ON k.subject = sub.subject
LEFT JOIN per_subject p ON p.subject = sub.subject
LEFT JOIN item_var_sum v ON v.subject = sub.subject
WHERE sub.exam_id = getvariable('exam_id')
