-- mart.item_scores: every item of every counted script (counted = false for optional items that
-- do not count); score is NULL where it is not settled yet.
SELECT exam_id, student_id, subject, item, type, response, score, counted, item_problem AS problem, score_set
FROM staging.item_scores
WHERE exam_id = getvariable('exam_id')
