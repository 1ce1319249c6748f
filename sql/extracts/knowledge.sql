-- @template knowledge
-- @title 知识点
-- @description Knowledge-point score rates (mart.knowledge) of each class the teacher may see against
--   the cohort's, per subject, weakest against the cohort first.
-- @param exam_id text --exam: the exam id
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
-- @param class_id text = * --class: one class only
-- @param subject text = * --subject: one subject code only
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
)
SELECT k.class_id, k.subject, sb.name AS subject_name, k.knowledge, k.n_items, k.n, k.score_rate,
    k.cohort_score_rate, k.score_rate_diff
FROM mart.knowledge k
JOIN raw.subjects sb ON sb.exam_id = k.exam_id AND sb.subject = k.subject
WHERE k.exam_id = $exam_id AND k.class_id <> '*'
  AND $class_id IN ('*', k.class_id) AND $subject IN ('*', k.subject)
  AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', k.class_id) AND sc.subject IN ('*', k.subject))
ORDER BY TRY_CAST(k.class_id AS BIGINT) NULLS LAST, k.class_id, sb.position, k.score_rate_diff, k.knowledge
