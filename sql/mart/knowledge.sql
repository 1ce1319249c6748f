-- mart.knowledge (知识点, rules.md §8): per class × subject × knowledge point, over the class's `ok`
-- scripts and the counted items tagged with it: score_rate = Σ scores / Σ full marks; class_id = '*'
-- is the cohort (every ok script of the subject); score_rate_diff = class − cohort. An item tagged
-- with several points ("函数;数列") counts for each. Exact sums (macros.sql).
WITH tags AS (
    SELECT subject, item, full_marks, optional_group IS NOT NULL AS optional, unnest(list_filter(
        [trim(k) FOR k IN regexp_split_to_array(coalesce(knowledge, ''), '[,，、;；/]+')], lambda k: k <> '')) AS knowledge
    FROM raw.items WHERE exam_id = getvariable('exam_id')
), points AS (
    -- a point with a compulsory item is sat by every ok script of the subject
    SELECT subject, knowledge, bool_or(NOT optional) AS compulsory FROM tags GROUP BY ALL
), per_item AS (
    -- one pass over the item rows: per class and item
    SELECT class_id, subject, item, count(*) AS n, sum(exact(score)) AS score_sum FROM item_results GROUP BY ALL
), class_ok AS (
    SELECT class_id, subject, count(*) AS n FROM staging.subject_ranked
    WHERE exam_id = getvariable('exam_id') AND status = 'ok' GROUP BY ALL
), optional_takers AS (
    -- the students of a point tagged on optional items only, counted one by one (few rows)
    SELECT r.class_id, r.subject, t.knowledge, count(DISTINCT r.student_id) AS n
    FROM item_results r JOIN tags t ON t.subject = r.subject AND t.item = r.item
    WHERE r.optional GROUP BY ALL
), classes AS (
    SELECT p.class_id, p.subject, t.knowledge, count(*) AS n_items,
        CASE WHEN any_value(pt.compulsory) THEN any_value(co.n) ELSE any_value(ot.n) END AS n,
        sum(p.score_sum) AS score_sum, sum(exact(t.full_marks) * p.n) AS full_sum
    FROM per_item p
    JOIN tags t ON t.subject = p.subject AND t.item = p.item
    JOIN points pt ON pt.subject = t.subject AND pt.knowledge = t.knowledge
    LEFT JOIN class_ok co ON co.class_id = p.class_id AND co.subject = p.subject
    LEFT JOIN optional_takers ot ON ot.class_id = p.class_id AND ot.subject = p.subject AND ot.knowledge = t.knowledge
    GROUP BY p.class_id, p.subject, t.knowledge
), items AS (
    SELECT t.subject, t.knowledge, count(DISTINCT t.item) AS n_items
    FROM tags t SEMI JOIN per_item p ON p.subject = t.subject AND p.item = t.item GROUP BY ALL
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
