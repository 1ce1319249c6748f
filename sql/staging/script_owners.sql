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
    LEFT JOIN (SELECT student_id, subject FROM staging.expected WHERE exam_id = getvariable('exam_id')) e
        ON e.student_id = o1.owner1 AND e.subject = o1.subject
    LEFT JOIN (SELECT student_id, electives_known FROM staging.students WHERE exam_id = getvariable('exam_id')) st
        ON st.student_id = o1.owner1
), o2 AS (
    SELECT s2.*, r.action AS ne_action,
        CASE WHEN s2.not_enrolled AND r.action = 'assign_student' THEN r.value ELSE s2.owner1 END AS owner2,
        s2.void1 OR coalesce(s2.not_enrolled AND r.action = 'void', false) AS void2
    FROM s2 LEFT JOIN res r
      ON r.code = 'NOT_ENROLLED' AND r.subject = s2.subject AND r.ref = s2.script_ref AND s2.not_enrolled
), live AS (
    SELECT o2.*, NOT void2 AND shape <> 'omr_error' AND owner2 IS NOT NULL AS is_live FROM o2
), multi AS (
    -- students with several live sheets of a subject (rare): the windows below run over those only
    SELECT subject, owner2 FROM live WHERE is_live GROUP BY ALL HAVING count(*) > 1
), copies AS (
    -- answers compared only where a student has several live copies, in (file, row) order
    SELECT source_file, source_row, row_number() OVER w AS copy_no,
        answers_key(responses, optional_choice, absent_mark) AS answers,
        first_value(answers_key(responses, optional_choice, absent_mark)) OVER w AS first_answers
    FROM live SEMI JOIN multi USING (subject, owner2)
    WHERE is_live
    WINDOW w AS (PARTITION BY subject, owner2 ORDER BY source_file, source_row)
), d AS (
    SELECT live.*, CASE WHEN live.is_live THEN coalesce(c.copy_no, 1) END AS copy_no,
        CASE WHEN c.copy_no > 1 THEN
            CASE WHEN c.answers = c.first_answers THEN 'DUPLICATE_SCAN' ELSE 'DUPLICATE_CONFLICT' END
        END AS dup_code
    FROM live LEFT JOIN copies c ON c.source_file = live.source_file AND c.source_row = live.source_row
), o3 AS (
    SELECT d.*, r.action AS dup_action,
        CASE WHEN d.dup_code = 'DUPLICATE_CONFLICT' AND r.action = 'assign_student' THEN r.value ELSE d.owner2 END AS owner,
        d.void2 OR coalesce(d.dup_code IS NOT NULL AND r.action = 'void', false) AS discarded
    FROM d LEFT JOIN res r
      ON r.code = d.dup_code AND r.subject = d.subject AND r.ref = d.script_ref AND d.dup_code IS NOT NULL
), scored AS (
    -- the copy that is scored: the first live sheet of the student in (file, row) order
    SELECT subject, owner, min({'f': source_file, 'r': source_row}) AS first
    FROM o3 WHERE NOT discarded AND shape <> 'omr_error' AND owner IS NOT NULL GROUP BY ALL
)
SELECT o3.* EXCLUDE (is_live), sc.first IS NOT NULL AS is_counting
FROM o3 LEFT JOIN scored sc ON sc.subject = o3.subject AND sc.owner = o3.owner
    AND sc.first = {'f': o3.source_file, 'r': o3.source_row}
