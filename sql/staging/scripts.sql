-- Every scanned sheet, normalised, with the reference its abnormal ids use (rules.md §3): the
-- script_id when the export has one, else <path under scans/>#<row>. script_no: a number per sheet,
-- the file's place among the exam's scan files in its high 32 bits and the row in the low ones
-- (the same on every run, and no sort of the sheets), the key item-level joins use: an integer
-- hashes and compares far faster than subject and student strings over millions of item rows.
WITH files AS (
    SELECT source_file, row_number() OVER (ORDER BY source_file) AS file_no
    FROM (SELECT DISTINCT source_file FROM raw.scans WHERE exam_id = getvariable('exam_id'))
)
SELECT
    s.exam_id, (f.file_no << 32) + s.source_row AS script_no,
    s.subject, s.shape, s.source_file, s.source_row,
    coalesce(nullif(trim(s.script_id), ''), substr(s.source_file, 7) || '#' || s.source_row) AS script_ref,
    nullif(trim(s.exam_no), '') AS exam_no,
    coalesce(lower(trim(s.absent)) IN ('1', '是', 'y', 'yes', 'true', 't', '缺考', '缺', '√'), false) AS absent_mark,
    TRY_CAST(s.pages AS BIGINT) AS pages,
    nullif(trim(s.optional_choice), '') AS optional_choice,
    nullif(upper(trim(s.paper_version)), '') AS paper_version,
    s.image,
    s.responses,
    len([e FOR e IN map_entries(s.responses) IF nullif(nullif(trim(e.value), ''), '-') IS NOT NULL]) AS n_answered,
    st.student_id AS scanned_student
FROM raw.scans s
JOIN files f ON f.source_file = s.source_file
LEFT JOIN staging.students st ON st.exam_id = s.exam_id AND st.exam_no = trim(s.exam_no)
WHERE s.exam_id = getvariable('exam_id')
