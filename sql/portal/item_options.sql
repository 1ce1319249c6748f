-- Option shares of one subject's items over every script (the cohort's; paper_version '*' pools the
-- AB versions).
SELECT item, option, share, is_key
FROM mart.item_options
WHERE exam_id = $exam_id AND subject = $subject AND paper_version = '*'
ORDER BY position, item, option_order, option
