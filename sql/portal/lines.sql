-- The exam's cut lines (for the borderline download's choice).
SELECT DISTINCT line FROM mart.cut_lines WHERE exam_id = $exam_id ORDER BY line
