-- Every exam of the analysts' copy, newest first.
SELECT exam_id, name, date, grade, previous, n_students
FROM mart.exams
ORDER BY date DESC NULLS LAST, exam_id DESC
