-- mart.seating: every student's room and seat in every session they sit.
SELECT getvariable('exam_id') AS exam_id, session, student_id, room, seat, exam_no, subject, class_id
FROM arranged_seating
