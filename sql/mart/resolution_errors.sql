-- mart.resolution_errors: resolutions in force that were rejected, with the reason; their
-- problems stay open.
SELECT r.exam_id, r.source_file, r.source_row, r.abnormal_id, r.action, r.value, r.operator,
    coalesce(r.static_error, 'no such abnormal script in this exam (or it no longer arises)') AS reason
FROM staging.resolutions r
WHERE r.exam_id = getvariable('exam_id') AND r.is_latest
  AND (r.static_error IS NOT NULL
       OR NOT EXISTS (SELECT 1 FROM staging.problems p WHERE p.exam_id = r.exam_id AND p.abnormal_id = r.abnormal_id))
