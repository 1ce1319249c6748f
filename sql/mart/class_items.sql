-- mart.class_items (rules.md §8): per class × subject × item over the class's `ok` scripts (where the
-- item counted): n, mean, difficulty = mean / full, and difficulty_diff = class − cohort difficulty
-- (the cohort: every ok script of the subject, as in mart.item_analysis).
WITH r AS (
    SELECT * FROM staging.item_results WHERE exam_id = getvariable('exam_id')
), cohort AS (
    SELECT subject, item, list_avg(list(score ORDER BY student_id)) / nullif(any_value(full_marks), 0) AS difficulty
    FROM r GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, r.class_id, r.subject, r.item, any_value(r.position) AS position,
    count(*) AS n, list_avg(list(r.score ORDER BY r.student_id)) AS mean,
    list_avg(list(r.score ORDER BY r.student_id)) / nullif(any_value(r.full_marks), 0) AS difficulty,
    any_value(c.difficulty) AS cohort_difficulty,
    list_avg(list(r.score ORDER BY r.student_id)) / nullif(any_value(r.full_marks), 0) - any_value(c.difficulty)
        AS difficulty_diff
FROM r JOIN cohort c ON c.subject = r.subject AND c.item = r.item
GROUP BY r.class_id, r.subject, r.item
