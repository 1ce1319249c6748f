-- @template borderline
-- @title 临界生
-- @description 临界生 of a cut line (mart.borderline: total within the line's band either side) in
--   the teacher's classes, each with their weakest subject relative to the line's 有效分 (the
--   effective score of mart.line_analysis for the student's track): the subject with the lowest
--   score / 有效分 among the subjects of the student's total that the teacher may see, its score,
--   有效分 and gap, and how many of those subjects are below their 有效分. A student is listed
--   when the teacher sees at least one of their subjects (or the class's totals).
-- @param exam_id text --exam: the exam id
-- @param teacher_id text --teacher: the teacher id (teachers.csv 工号)
-- @param line text = "" --line: the cut line's name (default the first line of each track)
-- @param class_id text = * --class: one class only
-- @param subject text = * --subject: consider only this subject for the weakest subject
WITH scope AS (
    SELECT * FROM extract_scope($exam_id, $teacher_id)
), lines AS (
    SELECT track, line, line_no FROM mart.cut_lines
    WHERE exam_id = $exam_id AND (($line = '' AND line_no = 0) OR line = $line)
), subjects AS (
    SELECT subject, name AS subject_name, position FROM raw.subjects WHERE exam_id = $exam_id
), gaps AS (
    -- every subject of the student's total the teacher may see, against its 有效分
    SELECT b.student_id, b.line, q.subject, sb.subject_name, sb.position, q.total_score AS score,
        la.effective_score, q.total_score - la.effective_score AS gap,
        q.total_score / nullif(la.effective_score, 0) AS ratio
    FROM mart.borderline b
    JOIN lines l ON l.track = b.track AND l.line = b.line
    JOIN staging.quant_scores q ON q.exam_id = $exam_id AND q.student_id = b.student_id AND q.subject <> 'total'
        AND q.expected AND q.status = 'ok'
    JOIN subjects sb ON sb.subject = q.subject
    JOIN mart.line_analysis la ON la.exam_id = $exam_id AND la.class_id = '*' AND la.track = b.track
        AND la.line = b.line AND la.subject = q.subject
    WHERE b.exam_id = $exam_id AND $subject IN ('*', q.subject)
      AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', b.class_id) AND sc.subject IN ('*', q.subject))
), weakest AS (
    SELECT student_id, line,
        arg_min(subject, [ratio, position]) AS weakest_subject_code,
        arg_min(subject_name, [ratio, position]) AS weakest_subject,
        arg_min(score, [ratio, position]) AS weakest_score,
        arg_min(effective_score, [ratio, position]) AS effective_score,
        arg_min(gap, [ratio, position]) AS weakest_gap,
        count(*) FILTER (WHERE gap < -1e-9) AS n_below_effective
    FROM gaps GROUP BY student_id, line
)
SELECT b.class_id, b.student_id, st.name, b.track, b.line, b.line_score, b.total, b.distance, b.grade_rank,
    w.weakest_subject, w.weakest_subject_code, w.weakest_score, w.effective_score, w.weakest_gap,
    w.n_below_effective
FROM mart.borderline b
JOIN lines l ON l.track = b.track AND l.line = b.line
LEFT JOIN weakest w ON w.student_id = b.student_id AND w.line = b.line
LEFT JOIN mart.students st ON st.exam_id = $exam_id AND st.student_id = b.student_id
WHERE b.exam_id = $exam_id AND $class_id IN ('*', b.class_id)
  AND (w.student_id IS NOT NULL
       OR ($subject IN ('*', 'total')
           AND EXISTS (SELECT 1 FROM scope sc WHERE sc.class_id IN ('*', b.class_id) AND sc.subject = '*')))
ORDER BY l.line_no, b.track, TRY_CAST(b.class_id AS BIGINT) NULLS LAST, b.class_id, b.distance DESC, b.student_id
