-- @template low_scorers
-- @title 不及格
-- @description Students under the pass line in the subjects the teacher may see: an ok raw score
--   below thresholds.pass × full marks (exam.yaml / school.yaml, default 0.60), as pass_rate of
--   mart.class_quant counts it; lowest first.
-- @param exam_id text --exam: the exam id
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
-- @param class_id text = * --class: one class only
-- @param subject text = * --subject: one subject code only
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
), cfg AS (
    SELECT pass FROM staging.quant_settings WHERE exam_id = $exam_id
)
SELECT s.class_id, s.student_id, st.name, s.subject, sb.name AS subject_name, s.raw_score, sb.full_marks,
    cfg.pass * sb.full_marks AS pass_score, cfg.pass * sb.full_marks - s.raw_score AS shortfall,
    s.grade_rank, s.class_rank
FROM mart.subject_scores s
JOIN raw.subjects sb ON sb.exam_id = s.exam_id AND sb.subject = s.subject
CROSS JOIN cfg
LEFT JOIN mart.students st ON st.exam_id = s.exam_id AND st.student_id = s.student_id
WHERE s.exam_id = $exam_id AND s.status = 'ok' AND s.raw_score < cfg.pass * sb.full_marks - 1e-9
  AND $class_id IN ('*', s.class_id) AND $subject IN ('*', s.subject)
  AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', s.class_id) AND sc.subject IN ('*', s.subject))
ORDER BY TRY_CAST(s.class_id AS BIGINT) NULLS LAST, s.class_id, sb.position, s.raw_score, s.student_id
