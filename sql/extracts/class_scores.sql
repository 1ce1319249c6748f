-- @template class_scores
-- @title 成绩
-- @description The teacher's classes and subjects: each student's score, band, grade and class
--   ranks and rank change since the previous exam, one row per student × subject. Total-score rows
--   (subject 'total') where the teacher sees every subject of the class (class head, director). The
--   class head also gets each student's contact phone, masked (138****5678).
-- @param exam_id text --exam: the exam id
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
-- @param class_id text = * --class: one class only (default every class in scope)
-- @param subject text = * --subject: one subject code, or total, only (default every subject in scope)
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
), cells AS (
    SELECT * FROM score_cells() WHERE exam_id = $exam_id
)
SELECT c.class_id, c.student_id, st.name, c.subject, c.subject_name, c.status, c.score, c.converted_score, c.band,
    c.grade_rank, c.class_rank, c.rank_change,
    CASE WHEN EXISTS (SELECT 1 FROM scope sc WHERE sc.contact AND sc.class_id = c.class_id)
         THEN mask_phone(ss.phone) END AS phone_masked
FROM cells c
LEFT JOIN mart.students st ON st.exam_id = $exam_id AND st.student_id = c.student_id
LEFT JOIN staging.students ss ON ss.exam_id = $exam_id AND ss.student_id = c.student_id
WHERE $class_id IN ('*', c.class_id) AND $subject IN ('*', c.subject)
  AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', c.class_id) AND sc.subject IN ('*', c.subject))
ORDER BY TRY_CAST(c.class_id AS BIGINT) NULLS LAST, c.class_id, coalesce(c.position, 1000000), c.class_rank NULLS LAST,
    c.student_id
