-- Students of the class in the track's top N by total, beside the track's own count.
SELECT b.track, b.top, b.n, t.n AS cohort_n
FROM mart.rank_bands b
LEFT JOIN mart.rank_bands t ON t.exam_id = b.exam_id AND t.class_id = '*' AND t.track = b.track AND t.top = b.top
WHERE b.exam_id = $exam_id AND b.class_id = $class_id
ORDER BY b.track, b.top
