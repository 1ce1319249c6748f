-- mart.item_scores: every item of every counted script (counted = false for optional items that
-- do not count); score is NULL where it is not settled yet. A view (examflow.stages): the same rows
-- as staging.item_scores, every exam's.
SELECT exam_id, student_id, subject, item, type, response, score, counted, item_problem AS problem, score_set
FROM staging.item_scores
