-- mart.students: the roster as the analysts see it (id_card and phone stay in raw).
SELECT exam_id, student_id, name, class_id, track, array_to_string(electives, ',') AS electives, exam_no, school
FROM staging.students WHERE exam_id = getvariable('exam_id')
