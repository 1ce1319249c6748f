-- Who should sit which subject: the `sits` macro (sql/macros.sql), which arrangement uses too. A
-- student whose own electives are empty (while others' are given) is expected only where a script
-- of theirs says so (staging.problems).
SELECT st.exam_id, st.student_id, subj.subject, subj.role
FROM staging.students st
JOIN raw.subjects subj ON subj.exam_id = st.exam_id
WHERE st.exam_id = getvariable('exam_id')
  AND sits(subj.role, subj.subject, subj.name, st.track, st.electives, st.electives_unused)
