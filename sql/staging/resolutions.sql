-- Every resolution row, parsed (code, subject, ref, item of its abnormal_id) and checked for what
-- can be checked without the problem list: operator present, action known and fitting the code,
-- value well-formed. The newest row (file, row order) of an abnormal_id is the one in force.
WITH r AS (
    SELECT *, trim(abnormal_id) AS aid, string_split(trim(abnormal_id), ':') AS parts
    FROM raw.resolutions WHERE exam_id = getvariable('exam_id') AND nullif(trim(abnormal_id), '') IS NOT NULL
), parsed AS (
    SELECT r.*, c.code IS NOT NULL AS known_code, c.settled_by, coalesce(c.item_level, false) AS item_level,
        parts[1] AS code, parts[2] AS subject,
        CASE WHEN c.item_level THEN parts[len(parts)] END AS item,
        array_to_string(list_slice(parts, 3, len(parts) - CASE WHEN c.item_level THEN 1 ELSE 0 END), ':') AS ref,
        lower(trim(action)) AS act, trim(value) AS val,
        row_number() OVER (PARTITION BY aid ORDER BY source_file DESC, source_row DESC) = 1 AS is_latest
    FROM r LEFT JOIN staging.abnormal_codes c ON c.code = r.parts[1]
), group_items AS (
    -- each optional item with the members of its group
    SELECT g.subject, g.item, list(i.item) AS members
    FROM raw.items g JOIN raw.items i ON i.exam_id = g.exam_id AND i.subject = g.subject AND i.optional_group = g.optional_group
    WHERE g.exam_id = getvariable('exam_id')
    GROUP BY ALL
), scored AS (
    SELECT p.*,
        trim(split_part(val, '=', 1)) AS score_item,
        TRY_CAST(trim(split_part(val, '=', 2)) AS DOUBLE) AS score_value
    FROM parsed p
)
SELECT
    s.exam_id, s.aid AS abnormal_id, s.code, s.subject, s.ref, s.item, s.act AS action, s.val AS value,
    nullif(trim(s.operator), '') AS operator, s."at", s.note, s.source_file, s.source_row, s.is_latest,
    CASE WHEN s.act = 'set_score' THEN s.score_item END AS score_item,
    CASE WHEN s.act = 'set_score' THEN s.score_value END AS score_value,
    CASE
        WHEN NOT s.known_code OR len(s.parts) < 3 THEN 'unknown abnormal id: no such code ' || coalesce(s.parts[1], '')
        WHEN s.act NOT IN ('assign_student', 'mark_absent', 'void', 'set_score', 'set_version', 'choose_optional', 'accept')
            THEN 'unknown action ' || coalesce(s.act, '(empty)')
        WHEN NOT list_contains(s.settled_by, s.act)
            THEN s.act || ' does not settle ' || s.code || ' (it is settled by ' || array_to_string(s.settled_by, ', ') || ')'
        WHEN nullif(trim(s.operator), '') IS NULL THEN 'operator is required'
        WHEN s.act = 'assign_student' AND st.student_id IS NULL
            THEN 'assign_student: no student ' || coalesce(s.val, '(empty)') || ' in the roster'
        WHEN s.act = 'set_score' AND (s.score_value IS NULL OR s.score_item = '')
            THEN 'set_score needs item=score, got ' || coalesce(s.val, '(empty)')
        WHEN s.act = 'set_score' AND s.item_level AND s.score_item <> s.item
            THEN 'set_score names item ' || s.score_item || ' but the problem is on item ' || s.item
        WHEN s.act = 'set_score' AND it.item IS NULL
            THEN 'set_score: subject ' || s.subject || ' has no item ' || s.score_item
        WHEN s.act = 'set_score' AND bad_mark(s.val, s.score_value, it.full_marks)
            THEN 'set_score: ' || s.score_value || ' is not a multiple of 0.5 in [0, ' || it.full_marks || ']'
        WHEN s.act = 'set_version' AND NOT EXISTS (
                SELECT 1 FROM raw.items i WHERE i.exam_id = s.exam_id AND i.subject = s.subject AND i.keys IS NOT NULL
                  AND list_contains(json_keys(i.keys), upper(s.val)))
            THEN 'set_version: ' || coalesce(s.val, '(empty)') || ' is not a paper version of ' || s.subject
        WHEN s.act = 'choose_optional' AND (s.val IS NULL OR gi.members IS NULL
                OR NOT list_has_all(gi.members, [trim(x) FOR x IN string_split(s.val, ',')]))
            THEN 'choose_optional: ' || coalesce(s.val, '(empty)') || ' is not an item of the optional group'
    END AS static_error
FROM scored s
LEFT JOIN staging.students st ON st.exam_id = s.exam_id AND st.student_id = s.val
LEFT JOIN raw.items it ON it.exam_id = s.exam_id AND it.subject = s.subject AND it.item = s.score_item
LEFT JOIN group_items gi ON gi.subject = s.subject AND gi.item = s.item
