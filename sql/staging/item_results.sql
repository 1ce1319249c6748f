-- Every counted item of every `ok` script (rules.md §8) with the student's class, track, raw subject
-- score and its place in the subject (score_order), the paper version on AB-versioned items: what item analysis, option shares, class × item, knowledge points and reliability
-- are computed over. Pending, absent and void scripts never enter, nor optional items that did not
-- count. Ephemeral (examflow.stages): a temp view the models read as `item_results`, because at
-- 8 M rows per 50,000 students the join is cheaper than storing it.
SELECT i.subject, i.item, i.group_first IS NOT NULL AS optional, i.student_id, s.class_id, s.track, i.type, i.score,
    s.raw_score, s.score_order, i.letters, i.read_status, i.paper_version
FROM staging.item_scores i
JOIN staging.subject_ranked s ON s.script_no = i.script_no AND s.exam_id = getvariable('exam_id') AND s.status = 'ok'
WHERE i.exam_id = getvariable('exam_id') AND i.counted
