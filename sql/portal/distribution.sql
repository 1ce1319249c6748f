-- Score distribution of one subject (or the total) in $bins equal bins over [0, full marks]: the
-- grade's ok scores and the class's.
WITH s AS (
    SELECT class_id, score, full_marks FROM staging.quant_scores
    WHERE exam_id = $exam_id AND subject = $subject AND status = 'ok' AND score IS NOT NULL
), f AS (
    SELECT max(full_marks) AS full_marks FROM s
), b AS (
    SELECT s.class_id, least(greatest(floor(s.score * $bins / f.full_marks), 0), $bins - 1)::INTEGER AS bin
    FROM s, f
)
SELECT bin, any_value((SELECT full_marks FROM f)) AS full_marks, count(*) AS n_grade,
    count(*) FILTER (WHERE class_id = $class_id) AS n_class
FROM b GROUP BY bin ORDER BY bin
