-- @template weak_items
-- @title 薄弱小题
-- @description Items on which the class's score rate (得分率, mart.class_items difficulty) is at
--   least X below the cohort's, for the classes and subjects the teacher may see, weakest first.
-- @param exam_id text --exam: the exam id
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
-- @param gap float = 0.1 --gap: how far below the cohort's score rate, as a fraction (0.1 = 10 points)
-- @param class_id text = * --class: one class only
-- @param subject text = * --subject: one subject code only
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
)
SELECT ci.class_id, ci.subject, sb.name AS subject_name, ci.item, ia.type AS item_type, ia.full_marks,
    ia.knowledge, ci.n, ci.mean, ci.difficulty, ci.cohort_difficulty, ci.difficulty_diff
FROM mart.class_items ci
JOIN raw.subjects sb ON sb.exam_id = ci.exam_id AND sb.subject = ci.subject
LEFT JOIN mart.item_analysis ia ON ia.exam_id = ci.exam_id AND ia.subject = ci.subject AND ia.item = ci.item
WHERE ci.exam_id = $exam_id AND ci.difficulty_diff <= -$gap + 1e-9
  AND $class_id IN ('*', ci.class_id) AND $subject IN ('*', ci.subject)
  AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', ci.class_id) AND sc.subject IN ('*', ci.subject))
ORDER BY TRY_CAST(ci.class_id AS BIGINT) NULLS LAST, ci.class_id, sb.position, ci.difficulty_diff, ci.position
