-- @template rank_movers
-- @title 名次变化
-- @description Students whose grade rank moved by at least N places since the previous exam, up or
--   down (mart.subject_scores / mart.totals rank_change = previous grade rank − this one), per
--   subject the teacher may see and, where they see every subject of the class, the total.
--   Empty when the exam has no previous exam.
-- @param exam_id text --exam: the exam id
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
-- @param min_change int = 50 --min-change: the least change of grade rank, either way
-- @param class_id text = * --class: one class only
-- @param subject text = * --subject: one subject code, or total, only
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
), cells AS (
    SELECT * FROM score_cells() WHERE exam_id = $exam_id AND rank_change IS NOT NULL
)
SELECT c.class_id, c.student_id, st.name, c.subject, c.subject_name, c.grade_rank + c.rank_change AS previous_rank,
    c.grade_rank, c.rank_change, CASE WHEN c.rank_change > 0 THEN '进步' ELSE '退步' END AS direction
FROM cells c
LEFT JOIN mart.students st ON st.exam_id = $exam_id AND st.student_id = c.student_id
WHERE abs(c.rank_change) >= $min_change
  AND $class_id IN ('*', c.class_id) AND $subject IN ('*', c.subject)
  AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', c.class_id) AND sc.subject IN ('*', c.subject))
ORDER BY coalesce(c.position, 0), TRY_CAST(c.class_id AS BIGINT) NULLS LAST, c.class_id, c.rank_change DESC, c.student_id
