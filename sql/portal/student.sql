-- One student of one exam: name and class (the class decides what the account may see).
SELECT student_id, name, class_id, track FROM mart.students WHERE exam_id = $exam_id AND student_id = $student_id
