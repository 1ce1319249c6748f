-- mart.invigilation: the teachers of every room × session (slot 1 = 主监考).
SELECT getvariable('exam_id') AS exam_id, session, room, teacher_id, slot
FROM arranged_invigilation
