-- @template schools
-- @title 学校对比
-- @description Joint exams (联考): every school's figures side by side (mart.school_quant, school = '*'
--   the joint cohort) per subject and total, track by track. Aggregates of every school are visible to
--   every teacher of the exam (rules.md §11); no student row is read. Empty outside joint exams.
-- @param exam_id text --exam: the exam id
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
), subjects AS (
    SELECT subject, name AS subject_name, position FROM raw.subjects WHERE exam_id = $exam_id
    UNION ALL SELECT 'total', '总分', 1000000
)
SELECT q.school, q.subject, sb.subject_name, q.track, q.n_enrolled, q.n_sat, q.mean, q.sd, q.max, q.min,
    q.excellent_rate, q.good_rate, q.pass_rate, q.low_rate, q.mean_diff, q.mean_ratio, q.rank_by_mean,
    q.three_rates_one_score, q.mean_change, q.rank_by_mean_change
FROM mart.school_quant q
JOIN subjects sb ON sb.subject = q.subject
WHERE q.exam_id = $exam_id
  AND EXISTS (SELECT 1 FROM scope sc)   -- any teacher of the exam; aggregates only
ORDER BY sb.position, q.track, q.school = '*' DESC, q.rank_by_mean, q.school
