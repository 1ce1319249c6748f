-- mart.borderline (临界生, rules.md §6): students of a line's track whose total lies in
-- [line − band, line + band), band = the line's own `band:` or `borderline_band`; distance =
-- total − line (negative = below the line).
SELECT getvariable('exam_id') AS exam_id, t.student_id, l.line, t.class_id, t.track, t.total, l.line_no,
    l.line_score, l.band, t.total - l.line_score AS distance, t.grade_rank
FROM mart.cut_lines l
JOIN staging.totals_ranked t ON t.exam_id = l.exam_id AND t.track = l.track AND t.status = 'ok'
WHERE l.exam_id = getvariable('exam_id')
  AND t.total >= l.line_score - l.band - 1e-9 AND t.total < l.line_score + l.band - 1e-9
