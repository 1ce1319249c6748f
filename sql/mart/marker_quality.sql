-- mart.marker_quality (阅卷质量, rules.md §7): per marker × subject × item, over the marks in force
-- (staging.marks: the newest row of each exam number and item), the first and the second mark each
-- counting for its own marker: n_marked (numeric marks given), mean and population sd of them;
-- n_double: scripts this marker marked that carry both marks; disagreement_rate: the share of them
-- with |score1 − score2| > the item's tolerance (arbitrated or not); mean_abs_diff: the mean
-- |own mark − the other marker's| over them. marker_name: the teacher of teachers.csv whose id it is.
WITH m AS (
    SELECT * FROM staging.marks WHERE exam_id = getvariable('exam_id')
), given AS (
    SELECT subject, item, exam_no, marker1 AS marker, s1 AS score, s2 AS other, tolerance FROM m WHERE marker1 IS NOT NULL
    UNION ALL
    SELECT subject, item, exam_no, marker2 AS marker, s2 AS score, s1 AS other, tolerance FROM m WHERE marker2 IS NOT NULL
), names AS (
    SELECT teacher_id, arg_min(teacher_name, source_row) AS teacher_name
    FROM staging.teacher_roles WHERE exam_id = getvariable('exam_id') AND teacher_name IS NOT NULL GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, g.marker, n.teacher_name AS marker_name, g.subject, g.item,
    count(g.score) AS n_marked,
    list_avg(list(g.score ORDER BY g.exam_no, g.score)) AS mean,
    list_aggregate(list(g.score ORDER BY g.exam_no, g.score), 'stddev_pop') AS sd,
    count(*) FILTER (WHERE g.score IS NOT NULL AND g.other IS NOT NULL) AS n_double,
    count(*) FILTER (WHERE abs(g.score - g.other) > g.tolerance)
        / nullif(count(*) FILTER (WHERE g.score IS NOT NULL AND g.other IS NOT NULL), 0) AS disagreement_rate,
    list_avg(list(abs(g.score - g.other) ORDER BY g.exam_no, g.score)) AS mean_abs_diff
FROM given g LEFT JOIN names n ON n.teacher_id = g.marker
GROUP BY ALL
