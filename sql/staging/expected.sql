-- Who should sit which subject: core subjects everyone; a first-choice subject the students of
-- its track; a reselect subject those whose electives name it. When the roster carries no
-- electives at all, everyone sits everything their track allows. A student whose own electives
-- are empty (while others' are given) is expected only where a script of theirs says so.
WITH subj AS (
    SELECT *,
        CASE WHEN subject = 'physics' OR name LIKE '物理%' THEN 'physics'
             WHEN subject = 'history' OR name LIKE '历史%' THEN 'history' END AS subject_track
    FROM raw.subjects WHERE exam_id = getvariable('exam_id')
)
SELECT st.exam_id, st.student_id, subj.subject, subj.role
FROM staging.students st
JOIN subj ON subj.exam_id = st.exam_id
WHERE st.exam_id = getvariable('exam_id')
  AND (subj.role = 'core'
       OR (subj.role = 'first_choice' AND (st.track = subj.subject_track
            OR (st.track = 'all' AND (st.electives_unused OR list_contains(st.electives, subj.subject)))))
       OR (subj.role = 'reselect' AND (st.electives_unused OR list_contains(st.electives, subj.subject))))
