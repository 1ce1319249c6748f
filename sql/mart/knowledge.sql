-- mart.knowledge (知识点, rules.md §8): per class × subject × knowledge point, over the class's `ok`
-- scripts and the counted items tagged with it: score_rate = Σ scores / Σ full marks; class_id = '*'
-- is the cohort (every ok script of the subject); score_rate_diff = class − cohort. An item tagged
-- with several points ("函数;数列") counts for each. Exact sums (macros.sql).
WITH tags AS (
    SELECT subject, item, full_marks, unnest(list_filter(
        [trim(k) FOR k IN regexp_split_to_array(coalesce(knowledge, ''), '[,，、;；/]+')], lambda k: k <> '')) AS knowledge
    FROM raw.items WHERE exam_id = getvariable('exam_id')
), r AS (
    SELECT r.class_id, r.subject, r.item, r.student_id, r.score, t.full_marks, t.knowledge
    FROM item_results r JOIN tags t ON t.subject = r.subject AND t.item = r.item
), classes AS (
    SELECT class_id, subject, knowledge, count(DISTINCT item) AS n_items, count(DISTINCT student_id) AS n,
        sum(exact(score)) AS score_sum, sum(exact(full_marks)) AS full_sum
    FROM r GROUP BY ALL
), items AS (
    SELECT subject, knowledge, count(DISTINCT item) AS n_items FROM r GROUP BY ALL
), cohort AS (
    SELECT c.subject, c.knowledge, sum(c.n) AS n, any_value(i.n_items) AS n_items,
        sum(c.score_sum) AS score_sum, sum(c.full_sum) AS full_sum
    FROM classes c JOIN items i ON i.subject = c.subject AND i.knowledge = c.knowledge
    GROUP BY c.subject, c.knowledge
), rows AS (
    SELECT class_id, subject, knowledge, n_items, n, score_sum, full_sum FROM classes
    UNION ALL BY NAME
    SELECT '*' AS class_id, subject, knowledge, n_items, n, score_sum, full_sum FROM cohort
)
SELECT getvariable('exam_id') AS exam_id, x.class_id, x.subject, x.knowledge, x.n_items, x.n,
    CAST(x.score_sum AS DOUBLE) AS score_sum, CAST(x.full_sum AS DOUBLE) AS full_sum,
    CAST(x.score_sum AS DOUBLE) / nullif(CAST(x.full_sum AS DOUBLE), 0) AS score_rate,
    CAST(c.score_sum AS DOUBLE) / nullif(CAST(c.full_sum AS DOUBLE), 0) AS cohort_score_rate,
    CAST(x.score_sum AS DOUBLE) / nullif(CAST(x.full_sum AS DOUBLE), 0)
        - CAST(c.score_sum AS DOUBLE) / nullif(CAST(c.full_sum AS DOUBLE), 0) AS score_rate_diff
FROM rows x JOIN cohort c ON c.subject = x.subject AND c.knowledge = x.knowledge
