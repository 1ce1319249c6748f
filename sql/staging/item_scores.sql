-- Every item of every counted script: the response read, the score by rules.md §1 (objective) and
-- §2 (subjective marks, optional groups), settlements applied (set_score, set_version,
-- choose_optional, ORPHAN_MARKS assign_student), and the item-level problems found.
WITH cs AS (
    SELECT * FROM staging.script_owners WHERE exam_id = getvariable('exam_id') AND is_counting
), res AS (
    SELECT * FROM staging.resolutions WHERE exam_id = getvariable('exam_id') AND is_latest AND static_error IS NULL
), items AS (
    SELECT i.*, s.optional_groups,
        CASE WHEN i.optional_group IS NOT NULL THEN
            CAST(json_extract(s.optional_groups, '$[' || i.optional_group || '].choose') AS BIGINT) END AS choose,
        CASE WHEN i.optional_group IS NOT NULL THEN
            json_extract_string(s.optional_groups, '$[' || i.optional_group || '].items[0]') END AS group_first
    FROM raw.items i JOIN raw.subjects s ON s.exam_id = i.exam_id AND s.subject = i.subject
    WHERE i.exam_id = getvariable('exam_id')
), scripts AS (
    -- present: sat the paper (an absent mark with answers counts once accepted; an all-blank
    -- script settled as absent does not)
    SELECT cs.*, coalesce(upper(rv.value), cs.paper_version) AS version,
        (NOT cs.absent_mark OR ra.action IS NOT NULL) AND rb.action IS NULL AS present
    FROM cs
    LEFT JOIN res rv ON rv.code = 'VERSION_UNKNOWN' AND rv.action = 'set_version'
        AND rv.subject = cs.subject AND rv.ref = cs.script_ref
    LEFT JOIN res ra ON ra.code = 'ABSENT_BUT_ANSWERED' AND ra.action = 'accept'
        AND ra.subject = cs.subject AND ra.ref = cs.script_ref
    LEFT JOIN res rb ON rb.code = 'ALL_BLANK' AND rb.action = 'mark_absent'
        AND rb.subject = cs.subject AND rb.ref = cs.script_ref
), orphan_links AS (
    -- marks whose exam number has no scanned script, given to a student by ORPHAN_MARKS assign_student
    SELECT r.subject, r.ref AS exam_no, r.value AS student_id
    FROM res r
    WHERE r.code = 'ORPHAN_MARKS' AND r.action = 'assign_student'
      AND NOT EXISTS (SELECT 1 FROM staging.scripts s WHERE s.exam_id = getvariable('exam_id')
                      AND s.subject = r.subject AND s.exam_no = r.ref)
), base AS (
    SELECT sc.exam_id, sc.subject, sc.owner AS student_id, sc.script_ref, sc.exam_no AS scanned_exam_no,
        sc.optional_choice, sc.version, sc.absent_mark, sc.present, sc.source_file, sc.source_row, sc.image,
        i.item, i.type, i.full_marks, i.position, i.optional_group, i.choose, i.group_first, i.options, i.partial,
        CASE WHEN i.type <> 'subjective' THEN sc.responses[i.item] END AS response,
        CASE WHEN i.keys IS NOT NULL THEN CAST(i.keys AS MAP(VARCHAR, VARCHAR))[sc.version]
             ELSE i.key END AS answer_key,
        i.keys IS NOT NULL AS versioned,
        coalesce(md.exam_no, mo.exam_no, sc.exam_no, sc.script_ref) AS mark_ref,
        coalesce(md.final_score, mo.final_score) AS mark_final,
        coalesce(md.is_marked, mo.is_marked, false) AS is_marked,
        coalesce(md.out_of_range, mo.out_of_range, false) AS out_of_range,
        coalesce(md.disagreement, mo.disagreement, false) AS disagreement,
        md.item IS NOT NULL OR mo.item IS NOT NULL AS has_mark_row
    FROM scripts sc
    JOIN items i ON i.subject = sc.subject
    LEFT JOIN staging.marks md ON md.exam_id = sc.exam_id AND md.subject = sc.subject AND md.exam_no = sc.exam_no
        AND md.item = i.item AND i.type = 'subjective'
    LEFT JOIN orphan_links ol ON ol.subject = sc.subject AND ol.student_id = sc.owner AND md.item IS NULL
        AND i.type = 'subjective'
    LEFT JOIN staging.marks mo ON mo.exam_id = sc.exam_id AND mo.subject = sc.subject AND mo.exam_no = ol.exam_no
        AND mo.item = i.item
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
             WHEN NOT regexp_matches(letters, '^[A-' || chr(64 + CAST(options AS INTEGER)) || ']+$') THEN 'invalid'
             WHEN type = 'single' AND length(letters) > 1 THEN 'multi'
             ELSE 'ok' END AS read_status
    FROM read
), group_state AS (
    -- optional groups (rules.md §2): bubbled choice, else the first k answered items in exam.yaml order
    SELECT *,
        CASE WHEN optional_group IS NOT NULL THEN
            len(list_intersect(list_distinct([trim(x) FOR x IN string_split(coalesce(optional_choice, ''), ',')]),
                list(item) OVER w)) END AS n_bubbled,
        CASE WHEN optional_group IS NOT NULL THEN
            list_contains([trim(x) FOR x IN string_split(coalesce(optional_choice, ''), ',')], item) END AS bubbled,
        CASE WHEN optional_group IS NOT NULL THEN
            count(*) FILTER (WHERE is_marked OR read_status NOT IN ('blank')) OVER w END AS n_answered,
        CASE WHEN optional_group IS NOT NULL THEN
            row_number() OVER (PARTITION BY subject, student_id, optional_group
                               ORDER BY (is_marked OR coalesce(read_status NOT IN ('blank'), false)) DESC, position) END AS answer_order
    FROM classified
    WINDOW w AS (PARTITION BY subject, student_id, optional_group)
), counted AS (
    SELECT g.*,
        CASE WHEN g.optional_group IS NULL THEN true
             WHEN rc.action = 'choose_optional' THEN list_contains([trim(x) FOR x IN string_split(rc.value, ',')], g.item)
             WHEN g.n_bubbled = g.choose THEN g.bubbled
             ELSE g.answer_order <= g.choose END AS counted,
        g.optional_group IS NOT NULL AND (g.n_bubbled <> g.choose OR g.n_answered > g.choose) AS choice_conflict
    FROM group_state g
    LEFT JOIN res rc ON rc.code = 'OPTIONAL_CHOICE_CONFLICT' AND rc.action = 'choose_optional'
        AND rc.subject = g.subject AND rc.ref = g.script_ref AND rc.item = g.group_first
), scored AS (
    SELECT *,
        CASE
            WHEN type = 'subjective' THEN mark_final
            WHEN answer_key IS NULL THEN NULL
            WHEN read_status <> 'ok' THEN 0
            WHEN type = 'numeric' THEN CASE WHEN TRY_CAST(letters AS HUGEINT) = TRY_CAST(answer_key AS HUGEINT) THEN full_marks ELSE 0 END
            WHEN letters = answer_letters(answer_key) THEN full_marks
            WHEN type = 'multi' AND list_has_all(string_split(answer_key, ''), string_split(letters, '')) THEN
                CASE WHEN partial = 'per_option' THEN full_marks * length(letters) / length(answer_letters(answer_key))
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
