-- Every counted item of every `ok` script (rules.md §8): the item score with the student's class and
-- raw subject score, the option letters read, and the item's knowledge points (a cell naming several
-- — "函数;数列" — lists each). Item analysis, option shares, class × item and knowledge points read
-- it; pending, absent and void scripts never enter, nor optional items that did not count.
SELECT i.exam_id, i.subject, i.item, i.student_id, s.class_id, s.track, i.type, it.full_marks, it.position,
    it.optional_group, it.options, i.score, s.raw_score, i.letters, i.read_status, i.answer_key,
    it.keys IS NOT NULL AS versioned,
    list_filter([trim(k) FOR k IN regexp_split_to_array(coalesce(it.knowledge, ''), '[,，、;；/]+')], lambda k: k <> '')
        AS knowledge
FROM staging.item_scores i
JOIN staging.subject_ranked s ON s.exam_id = i.exam_id AND s.student_id = i.student_id AND s.subject = i.subject
    AND s.status = 'ok'
JOIN raw.items it ON it.exam_id = i.exam_id AND it.subject = i.subject AND it.item = i.item
WHERE i.exam_id = getvariable('exam_id') AND i.counted
