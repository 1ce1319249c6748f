-- Whose script each scanned sheet is, once the settlements that move or discard sheets are applied,
-- in the order problems depend on each other: unreadable sheets (void) and unknown exam numbers
-- (assign_student / void), then
-- scripts outside the student's subjects (NOT_ENROLLED), then duplicates of one student's script.
-- Each step is detected on the state before its own settlements, so a settled problem stays listed.
WITH sc AS (
    SELECT * FROM staging.scripts WHERE exam_id = getvariable('exam_id')
), res AS (
    SELECT * FROM staging.resolutions WHERE exam_id = getvariable('exam_id') AND is_latest AND static_error IS NULL
), s1 AS (
    SELECT sc.*, scanned_student IS NULL AND shape <> 'omr_error' AS unknown_no FROM sc
), o1 AS (
    SELECT s1.*, r.action AS unknown_action,
        CASE WHEN s1.unknown_no AND r.action = 'assign_student' THEN r.value ELSE s1.scanned_student END AS owner1,
        coalesce(r.action = 'void', false) AS void1
    FROM s1 LEFT JOIN res r
      ON r.subject = s1.subject AND r.ref = s1.script_ref
     AND r.code = CASE WHEN s1.shape = 'omr_error' THEN 'SCAN_ERROR' WHEN s1.unknown_no THEN 'UNKNOWN_EXAM_NO' END
), s2 AS (
    SELECT o1.*,
        o1.owner1 IS NOT NULL AND NOT o1.void1 AND o1.shape <> 'omr_error' AND e.student_id IS NULL
          AND st.electives_known AS not_enrolled
    FROM o1
    LEFT JOIN staging.expected e ON e.exam_id = o1.exam_id AND e.student_id = o1.owner1 AND e.subject = o1.subject
    LEFT JOIN staging.students st ON st.exam_id = o1.exam_id AND st.student_id = o1.owner1
), o2 AS (
    SELECT s2.*, r.action AS ne_action,
        CASE WHEN s2.not_enrolled AND r.action = 'assign_student' THEN r.value ELSE s2.owner1 END AS owner2,
        s2.void1 OR coalesce(s2.not_enrolled AND r.action = 'void', false) AS void2
    FROM s2 LEFT JOIN res r
      ON r.code = 'NOT_ENROLLED' AND r.subject = s2.subject AND r.ref = s2.script_ref AND s2.not_enrolled
), live AS (
    SELECT o2.*, NOT void2 AND shape <> 'omr_error' AND owner2 IS NOT NULL AS is_live FROM o2
), s3 AS (
    SELECT live.*,
        CASE WHEN is_live THEN row_number() OVER (PARTITION BY subject, owner2, is_live ORDER BY source_file, source_row)
        END AS copy_no,
        count(*) OVER (PARTITION BY subject, owner2, is_live) AS n_copies
    FROM live
), keyed AS (
    -- answers compared only where a student has several live copies
    SELECT s3.*, CASE WHEN is_live AND n_copies > 1 THEN answers_key(responses, optional_choice, absent_mark) END AS answers
    FROM s3
), d AS (
    SELECT keyed.* EXCLUDE (answers),
        CASE WHEN copy_no > 1 THEN
            CASE WHEN answers = first_value(answers) OVER (PARTITION BY subject, owner2, is_live ORDER BY source_file, source_row)
                 THEN 'DUPLICATE_SCAN' ELSE 'DUPLICATE_CONFLICT' END
        END AS dup_code
    FROM keyed
), o3 AS (
    SELECT d.*, r.action AS dup_action,
        CASE WHEN d.dup_code = 'DUPLICATE_CONFLICT' AND r.action = 'assign_student' THEN r.value ELSE d.owner2 END AS owner,
        d.void2 OR coalesce(d.dup_code IS NOT NULL AND r.action = 'void', false) AS discarded
    FROM d LEFT JOIN res r
      ON r.code = d.dup_code AND r.subject = d.subject AND r.ref = d.script_ref AND d.dup_code IS NOT NULL
)
SELECT o3.* EXCLUDE (is_live, n_copies),
    -- the copy that is scored: the first live sheet of the student in (file, row) order
    NOT discarded AND shape <> 'omr_error' AND owner IS NOT NULL
      AND row_number() OVER (PARTITION BY subject, owner, NOT discarded AND shape <> 'omr_error' AND owner IS NOT NULL
                             ORDER BY source_file, source_row) = 1 AS is_counting
FROM o3
