-- 得分率 per item of one subject: the class's against the cohort's (mart.class_items).
SELECT item, n, mean, difficulty, cohort_difficulty, difficulty_diff
FROM mart.class_items
WHERE exam_id = $exam_id AND class_id = $class_id AND subject = $subject
ORDER BY position, item
