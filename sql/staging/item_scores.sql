-- Every item of every counted script: the response read, the score by rules.md §1 (objective) and
-- §2 (subjective marks, optional groups), settlements applied (set_score, set_version,
-- choose_optional, ORPHAN_MARKS assign_student), and the item-level problems found.
WITH cs AS (
    SELECT * FROM staging.script_owners WHERE exam_id = getvariable('exam_id') AND is_counting
), res AS (
    SELECT * FROM staging.resolutions WHERE exam_id = getvariable('exam_id') AND is_latest AND static_error IS NULL
), items AS (
    -- keys arrive normalised from exam.yaml (letters sorted); a paper-version key map parsed once
    SELECT i.*, s.optional_groups, CAST(i.keys AS MAP(VARCHAR, VARCHAR)) AS key_map,
        CASE WHEN i.optional_group IS NOT NULL THEN
            CAST(json_extract(s.optional_groups, '$[' || i.optional_group || '].choose') AS BIGINT) END AS choose,
        CASE WHEN i.optional_group IS NOT NULL THEN
            json_extract_string(s.optional_groups, '$[' || i.optional_group || '].items[0]') END AS group_first
    FROM raw.items i JOIN raw.subjects s ON s.exam_id = i.exam_id AND s.subject = i.subject
    WHERE i.exam_id = getvariable('exam_id')
), scripts AS (
    -- present: sat the paper (an absent mark with answers counts once accepted; an all-blank
    -- script settled as absent does not). The answers stay behind: they are unnested once below,
    -- never copied onto every item row.
    SELECT cs.* EXCLUDE (responses), coalesce(upper(rv.value), cs.paper_version) AS version,
        (NOT cs.absent_mark OR ra.action IS NOT NULL) AND rb.action IS NULL AS present
    FROM cs
    LEFT JOIN res rv ON rv.code = 'VERSION_UNKNOWN' AND rv.action = 'set_version'
        AND rv.subject = cs.subject AND rv.ref = cs.script_ref
    LEFT JOIN res ra ON ra.code = 'ABSENT_BUT_ANSWERED' AND ra.action = 'accept'
        AND ra.subject = cs.subject AND ra.ref = cs.script_ref
    LEFT JOIN res rb ON rb.code = 'ALL_BLANK' AND rb.action = 'mark_absent'
        AND rb.subject = cs.subject AND rb.ref = cs.script_ref
), answers AS (
    SELECT subject, owner AS student_id, e.key AS item, e.value AS response
    FROM (SELECT subject, owner, unnest(map_entries(responses)) AS e FROM cs)
), orphan_links AS (
    -- marks whose exam number has no scanned script, given to a student by ORPHAN_MARKS assign_student
    SELECT r.subject, r.ref AS exam_no, r.value AS student_id
    FROM res r
    WHERE r.code = 'ORPHAN_MARKS' AND r.action = 'assign_student'
      AND NOT EXISTS (SELECT 1 FROM staging.scripts s WHERE s.exam_id = getvariable('exam_id')
                      AND s.subject = r.subject AND s.exam_no = r.ref)
), grid AS (
    -- every item of every counted script
    SELECT sc.exam_id, sc.subject, sc.owner AS student_id, sc.script_ref, sc.exam_no AS scanned_exam_no,
        sc.optional_choice, sc.version, sc.absent_mark, sc.present, sc.source_file, sc.source_row, sc.image,
        i.item, i.type, i.full_marks, i.position, i.optional_group, i.choose, i.group_first, i.options, i.partial,
        CASE WHEN i.keys IS NOT NULL THEN i.key_map[sc.version] ELSE i.key END AS answer_key,
        i.keys IS NOT NULL AS versioned
    FROM scripts sc JOIN items i ON i.subject = sc.subject
), objective AS (
    SELECT g.*, a.response, coalesce(g.scanned_exam_no, g.script_ref) AS mark_ref, NULL::DOUBLE AS mark_final,
        false AS is_marked, false AS out_of_range, false AS disagreement, false AS has_mark_row
    FROM grid g
    LEFT JOIN answers a ON a.subject = g.subject AND a.student_id = g.student_id AND a.item = g.item
    WHERE g.type <> 'subjective'
), subjective AS (
    -- marks join by subject and the exam number as scanned; orphan marks given to the student fill in
    SELECT g.*, NULL::VARCHAR AS response,
        coalesce(md.exam_no, mo.exam_no, g.scanned_exam_no, g.script_ref) AS mark_ref,
        coalesce(md.final_score, mo.final_score) AS mark_final,
        coalesce(md.is_marked, mo.is_marked, false) AS is_marked,
        coalesce(md.out_of_range, mo.out_of_range, false) AS out_of_range,
        coalesce(md.disagreement, mo.disagreement, false) AS disagreement,
        md.item IS NOT NULL OR mo.item IS NOT NULL AS has_mark_row
    FROM grid g
    LEFT JOIN staging.marks md ON md.exam_id = g.exam_id AND md.subject = g.subject AND md.exam_no = g.scanned_exam_no
        AND md.item = g.item
    LEFT JOIN orphan_links ol ON ol.subject = g.subject AND ol.student_id = g.student_id AND md.item IS NULL
    LEFT JOIN staging.marks mo ON mo.exam_id = g.exam_id AND mo.subject = g.subject AND mo.exam_no = ol.exam_no
        AND mo.item = g.item
    WHERE g.type = 'subjective'
), base AS (
    SELECT * FROM objective UNION ALL BY NAME SELECT * FROM subjective
), read AS (
    SELECT *,
        CASE WHEN type = 'subjective' THEN NULL
             WHEN type = 'numeric' THEN nullif(nullif(trim(response), ''), '-')
             ELSE nullif(answer_letters(response), '') END AS letters
    FROM base
), classified AS (
    SELECT *,
        CASE WHEN type = 'subjective' THEN NULL
             WHEN letters IS NULL THEN 'blank'
             WHEN type = 'numeric' THEN CASE WHEN regexp_matches(letters, '^[0-9]+$') THEN 'ok' ELSE 'invalid' END
             -- letters come sorted, so the last one is the highest option read
             WHEN NOT regexp_matches(letters, '^[A-Z]+$') OR ascii(right(letters, 1)) > 64 + options THEN 'invalid'
             WHEN type = 'single' AND length(letters) > 1 THEN 'multi'
             ELSE 'ok' END AS read_status
    FROM read
), group_state AS (
    -- optional groups (rules.md §2): bubbled choice, else the first k answered items in exam.yaml
    -- order; computed over the optional items only (few), then joined back
    SELECT subject, student_id, item,
        len(list_intersect(list_distinct(choices), list(item) OVER w)) AS n_bubbled,
        list_contains(choices, item) AS bubbled,
        count(*) FILTER (WHERE is_marked OR read_status <> 'blank') OVER w AS n_answered,
        row_number() OVER (PARTITION BY subject, student_id, optional_group
                           ORDER BY (is_marked OR coalesce(read_status <> 'blank', false)) DESC, position) AS answer_order
    FROM (SELECT *, [trim(x) FOR x IN string_split(coalesce(optional_choice, ''), ',')] AS choices
          FROM classified WHERE optional_group IS NOT NULL)
    WINDOW w AS (PARTITION BY subject, student_id, optional_group)
), counted AS (
    SELECT c.*, g.n_bubbled, g.n_answered,
        CASE WHEN c.optional_group IS NULL THEN true
             WHEN rc.action = 'choose_optional' THEN list_contains([trim(x) FOR x IN string_split(rc.value, ',')], c.item)
             WHEN g.n_bubbled = c.choose THEN g.bubbled
             ELSE g.answer_order <= c.choose END AS counted,
        c.optional_group IS NOT NULL AND (g.n_bubbled <> c.choose OR g.n_answered > c.choose) AS choice_conflict
    FROM classified c
    LEFT JOIN group_state g ON c.optional_group IS NOT NULL AND g.subject = c.subject AND g.student_id = c.student_id
        AND g.item = c.item
    LEFT JOIN res rc ON c.optional_group IS NOT NULL AND rc.code = 'OPTIONAL_CHOICE_CONFLICT'
        AND rc.action = 'choose_optional' AND rc.subject = c.subject AND rc.ref = c.script_ref AND rc.item = c.group_first
), scored AS (
    SELECT *,
        CASE
            WHEN type = 'subjective' THEN mark_final
            WHEN answer_key IS NULL THEN NULL
            WHEN read_status <> 'ok' THEN 0
            WHEN type = 'numeric' THEN CASE WHEN TRY_CAST(letters AS HUGEINT) = TRY_CAST(answer_key AS HUGEINT) THEN full_marks ELSE 0 END
            WHEN letters = answer_key THEN full_marks
            WHEN type = 'multi' AND list_has_all(string_split(answer_key, ''), string_split(letters, '')) THEN
                CASE WHEN partial = 'per_option' THEN full_marks * length(letters) / length(answer_key)
                     ELSE CAST(partial AS DOUBLE) END
            ELSE 0 END AS read_score,
        CASE
            WHEN NOT present THEN NULL
            WHEN type <> 'subjective' AND read_status = 'multi' THEN 'MULTI_MARK'
            WHEN type <> 'subjective' AND read_status = 'invalid' THEN 'UNREADABLE_MARK'
            WHEN type = 'subjective' AND counted AND out_of_range THEN 'SCORE_OUT_OF_RANGE'
            WHEN type = 'subjective' AND counted AND disagreement THEN 'MARKER_DISAGREEMENT'
            WHEN type = 'subjective' AND counted AND mark_final IS NULL THEN 'UNMARKED'
        END AS item_problem
    FROM counted
)
SELECT s.* EXCLUDE (optional_choice),
    CASE WHEN s.type = 'subjective' THEN s.mark_ref ELSE s.script_ref END AS problem_ref,
    coalesce(rs.score_value, rf.score_value, s.read_score) AS score,
    rs.score_value IS NOT NULL OR rf.score_value IS NOT NULL AS score_set
FROM scored s
LEFT JOIN res rs ON rs.action = 'set_score' AND rs.subject = s.subject AND rs.item = s.item AND rs.code = s.item_problem
    AND rs.ref = CASE WHEN s.type = 'subjective' THEN s.mark_ref ELSE s.script_ref END
LEFT JOIN res rf ON rf.action = 'set_score' AND rf.code = 'MARKER_FLAGGED' AND rf.subject = s.subject
    AND rf.ref = s.mark_ref AND rf.score_item = s.item
