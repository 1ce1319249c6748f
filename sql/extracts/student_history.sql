-- @template student_history
-- @title 历次成绩
-- @description One student's scores and ranks across every exam in the warehouse, oldest first: per
--   exam each subject the teacher may see for the student's class in the requested exam and, where
--   they see every subject of that class, the total. Refused for a student outside their classes.
-- @param exam_id text --exam: the exam id (the student's class in this exam decides the scope)
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
-- @param student_id text --student: the student's 学号
-- @param subject text = * --subject: one subject code, or total, only
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
), me AS (
    SELECT student_id, name, class_id FROM mart.students WHERE exam_id = $exam_id AND student_id = $student_id
), cells AS (
    SELECT * FROM score_cells() WHERE student_id = $student_id
)
SELECT c.exam_id, e.name AS exam_name, e.date, me.student_id, me.name, c.class_id, c.subject,
    c.subject_name, c.status, c.score,
    c.converted_score, c.band, c.grade_rank, c.class_rank, c.rank_change
FROM cells c
CROSS JOIN me
JOIN mart.exams e ON e.exam_id = c.exam_id
WHERE $subject IN ('*', c.subject)
  AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', me.class_id) AND sc.subject IN ('*', c.subject))
ORDER BY e.date NULLS LAST, c.exam_id, coalesce(c.position, 1000000), c.subject
