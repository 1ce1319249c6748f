-- Every problem found in this exam (rules.md §3), one row each, before settlements are joined:
-- its stable abnormal_id, the student it concerns (when known) and where it was read.
WITH so AS (
    SELECT * FROM staging.script_owners WHERE exam_id = getvariable('exam_id')
), subj AS (
    SELECT * FROM raw.subjects WHERE exam_id = getvariable('exam_id')
), flagged_refs AS (
    -- the (few) exam numbers with a flagged mark row, per subject
    SELECT DISTINCT subject, exam_no FROM staging.marks WHERE exam_id = getvariable('exam_id') AND flag IS NOT NULL
), named AS MATERIALIZED (
    -- the item rows a problem names, picked before any join: a filter that reads a correlated subquery
    -- was planned after the join to their scripts, which then carried every item row of the exam (8 M
    -- per 50,000 students, spilling to disk at 500,000)
    SELECT i.* FROM staging.item_scores i
    LEFT JOIN flagged_refs f ON f.subject = i.subject AND f.exam_no = i.mark_ref
    WHERE i.exam_id = getvariable('exam_id')
      AND (i.item_problem IS NOT NULL OR (i.choice_conflict AND i.present) OR (i.present AND f.exam_no IS NOT NULL))
), isc AS (
    -- the item rows a problem names, with their script's and item's details
    SELECT i.*, so.script_ref, so.exam_no AS scanned_exam_no, so.source_file, so.source_row, so.image, it.full_marks,
        CASE WHEN i.type = 'subjective' THEN i.mark_ref ELSE so.script_ref END AS problem_ref
    FROM named i
    JOIN so ON so.script_no = i.script_no
    JOIN raw.items it ON it.exam_id = i.exam_id AND it.subject = i.subject AND it.item = i.item
), marked AS (
    SELECT DISTINCT subject, exam_no FROM staging.marks WHERE exam_id = getvariable('exam_id') AND is_marked
), script_level AS (
    SELECT code, subject, script_ref AS ref, NULL AS item, exam_no, student_id, detail, source_file, source_row, image
    FROM (
        SELECT 'SCAN_ERROR' AS code, *, scanned_student AS student_id,
            'the scanner could not read this sheet' AS detail FROM so WHERE shape = 'omr_error'
        UNION ALL BY NAME
        SELECT 'UNKNOWN_EXAM_NO' AS code, *, owner1 AS student_id,
            'exam number ' || coalesce('''' || exam_no || '''', '(empty)') || ' matches no student of the roster' AS detail
        FROM so WHERE unknown_no
        UNION ALL BY NAME
        SELECT 'NOT_ENROLLED' AS code, *, owner1 AS student_id, 'student ' || owner1 || ' does not take ' || subject AS detail
        FROM so WHERE not_enrolled
        UNION ALL BY NAME
        SELECT dup_code AS code, *, owner2 AS student_id,
            CASE WHEN dup_code = 'DUPLICATE_SCAN' THEN 'scanned again with identical answers'
                 ELSE 'scanned again with different answers' END || ' (student ' || owner2 || ')' AS detail
        FROM so WHERE dup_code IS NOT NULL
    )
), counting AS (
    SELECT so.*, s.pages AS subject_pages, s.uses_versions,
        EXISTS (SELECT 1 FROM marked m WHERE m.subject = so.subject AND m.exam_no = so.exam_no) AS has_marks,
        (SELECT count(*) FROM raw.items i WHERE i.exam_id = so.exam_id AND i.subject = so.subject AND i.type <> 'subjective') AS n_objective
    FROM so JOIN subj s ON s.subject = so.subject WHERE so.is_counting
), counting_level AS (
    SELECT code, subject, script_ref AS ref, NULL AS item, exam_no, owner AS student_id, detail, source_file, source_row, image
    FROM (
        SELECT 'PAGE_MISSING' AS code, *, pages || ' of ' || subject_pages || ' pages scanned' AS detail
        FROM counting WHERE pages < subject_pages
        UNION ALL BY NAME
        SELECT 'VERSION_UNKNOWN' AS code, *,
            'paper version ' || coalesce('''' || paper_version || '''', '(empty)') || ' is not one of the keys' AS detail
        FROM counting c WHERE uses_versions AND NOT (absent_mark AND n_answered = 0 AND NOT has_marks)
          AND NOT EXISTS (SELECT 1 FROM raw.items i WHERE i.exam_id = c.exam_id AND i.subject = c.subject AND i.keys IS NOT NULL
                          AND list_contains(json_keys(i.keys), c.paper_version))
        UNION ALL BY NAME
        SELECT 'ALL_BLANK' AS code, *, 'every objective item is blank' AS detail FROM counting
        WHERE NOT absent_mark AND n_objective > 0 AND n_answered = 0
        UNION ALL BY NAME
        SELECT 'ABSENT_BUT_ANSWERED' AS code, *, 'marked absent, yet ' || n_answered || ' answers read'
          || CASE WHEN has_marks THEN ' and marks given' ELSE '' END AS detail
        FROM counting WHERE absent_mark AND (n_answered > 0 OR has_marks)
    )
), item_level AS (
    SELECT item_problem AS code, subject, problem_ref AS ref, item,
        CASE WHEN type = 'subjective' THEN mark_ref ELSE scanned_exam_no END AS exam_no, student_id,
        CASE item_problem
            WHEN 'MULTI_MARK' THEN 'read ' || response || ' on a single-choice item'
            WHEN 'UNREADABLE_MARK' THEN 'read ' || response || ' (unreadable or outside the options)'
            WHEN 'UNMARKED' THEN 'no final mark'
            WHEN 'MARKER_DISAGREEMENT' THEN 'marks differ beyond tolerance and no arbitration'
            WHEN 'SCORE_OUT_OF_RANGE' THEN 'a mark outside [0, ' || full_marks || '] or not a multiple of 0.5'
        END AS detail, source_file, source_row, image
    FROM isc WHERE item_problem IS NOT NULL
    UNION ALL
    SELECT DISTINCT ON (subject, script_ref, group_first)
        'OPTIONAL_CHOICE_CONFLICT', subject, script_ref, group_first, scanned_exam_no, student_id,
        'optional group chosen ambiguously: ' || n_bubbled || ' valid choice(s) bubbled, ' || n_answered || ' answered',
        source_file, source_row, image
    FROM isc WHERE choice_conflict AND present
), missing AS (
    SELECT 'MISSING_SCRIPT' AS code, e.subject, e.student_id AS ref, NULL AS item, st.exam_no, e.student_id,
        'no script and no absent mark' AS detail, NULL AS source_file, NULL::BIGINT AS source_row, NULL AS image
    FROM staging.expected e JOIN staging.students st ON st.exam_id = e.exam_id AND st.student_id = e.student_id
    WHERE e.exam_id = getvariable('exam_id')
      AND NOT EXISTS (SELECT 1 FROM so WHERE so.is_counting AND so.owner = e.student_id AND so.subject = e.subject)
      AND NOT EXISTS (SELECT 1 FROM so WHERE so.shape = 'omr_error' AND NOT so.discarded
                      AND so.scanned_student = e.student_id AND so.subject = e.subject)
), orphans AS (
    SELECT DISTINCT ON (m.subject, m.exam_no) 'ORPHAN_MARKS' AS code, m.subject, m.exam_no AS ref, NULL AS item,
        m.exam_no, r.value AS student_id, 'marks for an exam number with no scanned script' AS detail,
        m.source_file, m.source_row, NULL AS image
    FROM staging.marks m
    LEFT JOIN staging.resolutions r ON r.exam_id = m.exam_id AND r.is_latest AND r.static_error IS NULL
        AND r.code = 'ORPHAN_MARKS' AND r.action = 'assign_student' AND r.subject = m.subject AND r.ref = m.exam_no
    WHERE m.exam_id = getvariable('exam_id')
      AND NOT EXISTS (SELECT 1 FROM staging.scripts s WHERE s.exam_id = m.exam_id AND s.subject = m.subject AND s.exam_no = m.exam_no)
    ORDER BY m.subject, m.exam_no, m.source_file, m.source_row
), flagged AS (
    SELECT 'MARKER_FLAGGED' AS code, i.subject, i.mark_ref AS ref, NULL AS item, i.mark_ref AS exam_no,
        any_value(i.student_id) AS student_id,
        string_agg(DISTINCT 'item ' || m.item || ': ' || m.flag, '; ') AS detail,
        min(m.source_file) AS source_file, min(m.source_row) AS source_row, any_value(i.image) AS image
    FROM isc i JOIN staging.marks m ON m.exam_id = i.exam_id AND m.subject = i.subject AND m.exam_no = i.mark_ref
        AND m.item = i.item
    WHERE m.flag IS NOT NULL AND i.present
    GROUP BY i.subject, i.mark_ref
)
SELECT DISTINCT ON (abnormal_id) getvariable('exam_id') AS exam_id,
    code || ':' || subject || ':' || ref || coalesce(':' || item, '') AS abnormal_id,
    code, subject, ref, item, exam_no, student_id, detail, source_file, source_row, image
FROM (
    SELECT * FROM script_level
    UNION ALL BY NAME SELECT * FROM counting_level
    UNION ALL BY NAME SELECT * FROM item_level
    UNION ALL BY NAME SELECT * FROM missing
    UNION ALL BY NAME SELECT * FROM orphans
    UNION ALL BY NAME SELECT * FROM flagged
)
ORDER BY abnormal_id, source_file, source_row
