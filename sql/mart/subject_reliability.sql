-- mart.subject_reliability (rules.md §8): Cronbach's alpha per subject over its non-optional items
-- and its `ok` scripts: alpha = k/(k−1) × (1 − Σ var(item) / var(Σ items)), population variances
-- (the n/(n−1) factors cancel). NULL with fewer than two items, two scripts, or no variance.
WITH r AS (
    SELECT * FROM staging.item_results WHERE exam_id = getvariable('exam_id') AND optional_group IS NULL
), item_var AS (
    -- variances over the scores in student_id order, so that a re-run gives the same bits
    SELECT subject, item, list_aggregate(list(score ORDER BY student_id), 'var_pop') AS v FROM r GROUP BY ALL
), sums AS (
    SELECT subject, student_id, list_sum(list(score ORDER BY item)) AS s FROM r GROUP BY ALL
), per_subject AS (
    SELECT s.subject, count(*) AS n, list_aggregate(list(s.s ORDER BY s.student_id), 'var_pop') AS total_var,
        (SELECT list_sum(list(v.v ORDER BY v.item)) FROM item_var v WHERE v.subject = s.subject) AS item_var_sum
    FROM sums s GROUP BY ALL
), k AS (
    SELECT subject, count(*) FILTER (WHERE optional_group IS NULL) AS k
    FROM raw.items WHERE exam_id = getvariable('exam_id') GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, sub.subject, coalesce(p.n, 0) AS n, k.k AS n_items,
    CASE WHEN k.k >= 2 AND p.n >= 2 AND p.total_var > 1e-12
         THEN k.k / (k.k - 1) * (1 - p.item_var_sum / p.total_var) END AS alpha
FROM raw.subjects sub
JOIN k ON k.subject = sub.subject
LEFT JOIN per_subject p ON p.subject = sub.subject
WHERE sub.exam_id = getvariable('exam_id')
