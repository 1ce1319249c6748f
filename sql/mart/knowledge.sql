-- mart.knowledge (知识点, rules.md §8): per class × subject × knowledge point, over the class's `ok`
-- scripts and the counted items tagged with it: score_rate = Σ scores / Σ full marks; class_id = '*'
-- is the cohort (every ok script of the subject); score_rate_diff = class − cohort. An item tagged
-- with several points ("函数;数列") counts for each. Sums run in a fixed order (bit-stable re-runs).
WITH r AS (
    SELECT r.class_id, r.subject, r.item, r.student_id, r.score, r.full_marks, unnest(r.knowledge) AS knowledge
    FROM staging.item_results r
    WHERE r.exam_id = getvariable('exam_id') AND len(r.knowledge) > 0
), classes AS (
    SELECT class_id, subject, knowledge, count(DISTINCT item) AS n_items, count(DISTINCT student_id) AS n,
        list_sum(list(score ORDER BY student_id, item)) AS score_sum, sum(full_marks) AS full_sum
    FROM r GROUP BY ALL
), items AS (
    SELECT subject, knowledge, count(DISTINCT item) AS n_items FROM r GROUP BY ALL
), cohort AS (
    SELECT c.subject, c.knowledge, sum(c.n) AS n, any_value(i.n_items) AS n_items,
        list_sum(list(c.score_sum ORDER BY c.class_id)) AS score_sum, sum(c.full_sum) AS full_sum
    FROM classes c JOIN items i ON i.subject = c.subject AND i.knowledge = c.knowledge
    GROUP BY c.subject, c.knowledge
), rows AS (
    SELECT class_id, subject, knowledge, n_items, n, score_sum, full_sum FROM classes
    UNION ALL BY NAME
    SELECT '*' AS class_id, subject, knowledge, n_items, n, score_sum, full_sum FROM cohort
)
SELECT getvariable('exam_id') AS exam_id, x.class_id, x.subject, x.knowledge, x.n_items, x.n, x.score_sum,
    x.full_sum, x.score_sum / nullif(x.full_sum, 0) AS score_rate,
    c.score_sum / nullif(c.full_sum, 0) AS cohort_score_rate,
    x.score_sum / nullif(x.full_sum, 0) - c.score_sum / nullif(c.full_sum, 0) AS score_rate_diff
FROM rows x JOIN cohort c ON c.subject = x.subject AND c.knowledge = x.knowledge
