-- mart.timetable: each subject's session (rules.md §10), from the arrangement computed in Python
-- (registered on the connection as `arranged_timetable`).
SELECT getvariable('exam_id') AS exam_id, session, subject, subject_name, starts_at, ends_at, n_students
FROM arranged_timetable
