-- Every item of every counted script: the response read, the score by rules.md §1 (objective) and
-- §2 (subjective marks, optional groups), settlements applied (set_score, set_version,
-- choose_optional, ORPHAN_MARKS assign_student), and the item-level problems found.
-- One row per (subject, student, item), the most numerous rows of an exam: only what varies by item
-- is kept (paper_version only on AB-versioned items, NULL elsewhere). The script's details are
-- staging.script_owners' counting row of (subject, student_id), the item's are raw.items'.
-- Item rows are laid out per script from its subject's item list (an objective item's response read
-- from the script's answers on the way), and the joins left at item level run on two integers, the
-- script's `script_no` (staging.scripts) and the item's `ino`: at 8 M rows per 50,000 students, hash
-- tables of string keys and copied rows are what this model's time and memory would go to.
WITH cs AS NOT MATERIALIZED (
    SELECT * FROM staging.script_owners WHERE exam_id = getvariable('exam_id') AND is_counting
), res AS (
    SELECT * FROM staging.resolutions WHERE exam_id = getvariable('exam_id') AND is_latest AND static_error IS NULL
), items AS (
    SELECT i.*, row_number() OVER () AS ino, i.keys IS NOT NULL AS versioned,
        CASE WHEN i.optional_group IS NOT NULL THEN
            CAST(json_extract(s.optional_groups, '$[' || i.optional_group || '].choose') AS BIGINT) END AS choose,
        CASE WHEN i.optional_group IS NOT NULL THEN
            json_extract_string(s.optional_groups, '$[' || i.optional_group || '].items[0]') END AS group_first
    FROM raw.items i JOIN raw.subjects s ON s.exam_id = i.exam_id AND s.subject = i.subject
    WHERE i.exam_id = getvariable('exam_id')
), letter_sets AS (
    -- each distinct answer read, as its set of option letters (macros.sql: answer_letters) and whether
    -- those are letters at all, with the highest one (they come sorted): computed once per value
    -- (hundreds) instead of once per item row (millions)
    SELECT response, letters, regexp_full_match(letters, '[A-Z]+') AS all_letters, ascii(right(letters, 1)) AS highest
    FROM (SELECT response, nullif(answer_letters(response), '') AS letters
          FROM (SELECT DISTINCT unnest(map_values(responses)) AS response FROM cs) WHERE response IS NOT NULL)
), version_keys AS (
    -- the key of each paper version of an AB-versioned item (keys arrive normalised from exam.yaml)
    SELECT ino, e.key AS version, e.value AS answer_key
    FROM (SELECT ino, unnest(version_keys(keys)) AS e FROM items WHERE versioned)
), scripts AS NOT MATERIALIZED (
    -- present: sat the paper (an absent mark with answers counts once accepted; an all-blank
    -- script settled as absent does not)
    SELECT cs.exam_id, cs.script_no, cs.subject, cs.owner, cs.script_ref, cs.exam_no, cs.optional_choice, cs.responses,
        coalesce(upper(rv.value), cs.paper_version) AS version,
        (NOT cs.absent_mark OR ra.action IS NOT NULL) AND rb.action IS NULL AS present
    FROM cs
    LEFT JOIN res rv ON rv.code = 'VERSION_UNKNOWN' AND rv.action = 'set_version'
        AND rv.subject = cs.subject AND rv.ref = cs.script_ref
    LEFT JOIN res ra ON ra.code = 'ABSENT_BUT_ANSWERED' AND ra.action = 'accept'
        AND ra.subject = cs.subject AND ra.ref = cs.script_ref
    LEFT JOIN res rb ON rb.code = 'ALL_BLANK' AND rb.action = 'mark_absent'
        AND rb.subject = cs.subject AND rb.ref = cs.script_ref
), script_marks AS (
    -- marks join by subject and the exam number as scanned (so a script's marks are those of its own
    -- exam number: mark_ref below)
    SELECT sc.script_no, i.ino, m.final_score, m.is_marked, m.out_of_range, m.disagreement
    FROM staging.marks m
    JOIN scripts sc ON sc.subject = m.subject AND sc.exam_no = m.exam_no
    JOIN items i ON i.subject = m.subject AND i.item = m.item
    WHERE m.exam_id = getvariable('exam_id')
), orphan_marks AS (
    -- marks whose exam number has no scanned script, given to a student by ORPHAN_MARKS assign_student
    SELECT r.subject, r.value AS student_id, m.item, m.exam_no, m.final_score, m.is_marked, m.out_of_range,
        m.disagreement
    FROM res r
    JOIN staging.marks m ON m.exam_id = r.exam_id AND m.subject = r.subject AND m.exam_no = r.ref
    WHERE r.code = 'ORPHAN_MARKS' AND r.action = 'assign_student'
      AND NOT EXISTS (SELECT 1 FROM staging.scripts s WHERE s.exam_id = getvariable('exam_id')
                      AND s.subject = r.subject AND s.exam_no = r.ref)
), subject_items AS (
    -- each subject's items in item order, as up to four lists (objective or subjective, in an optional
    -- group or not), so that the optional-group pass below reads the optional items only
    SELECT subject, type = 'subjective' AS subjective, optional_group IS NOT NULL AS optional,
        list(struct_pack(ino, item, type, full_marks, position, optional_group, choose, group_first, options,
                         partial, key, versioned) ORDER BY ino) AS items
    FROM items GROUP BY ALL
), grid AS NOT MATERIALIZED (
    -- every item of every counted script
    SELECT sc.exam_id, sc.script_no, sc.subject, sc.owner AS student_id, sc.script_ref, sc.exam_no AS scanned_exam_no,
        sc.optional_choice, sc.version, sc.present, sc.responses, si.subjective, si.optional, si.items
    FROM scripts sc JOIN subject_items si ON si.subject = sc.subject
), objective AS NOT MATERIALIZED (
    SELECT o.* EXCLUDE (key), CASE WHEN o.versioned THEN vk.answer_key ELSE o.key END AS answer_key,
        ls.letters AS letter_set, ls.all_letters, ls.highest,
        coalesce(o.scanned_exam_no, o.script_ref) AS mark_ref, NULL::DOUBLE AS mark_final,
        false AS is_marked, false AS out_of_range, false AS disagreement, false AS has_mark_row
    FROM (SELECT g.* EXCLUDE (responses, subjective, items), unnest([
              struct_insert(i, response := g.responses[i.item]) FOR i IN g.items], recursive := true)
          FROM grid g WHERE NOT g.subjective) o
    LEFT JOIN version_keys vk ON vk.ino = o.ino AND vk.version = o.version
    LEFT JOIN letter_sets ls ON ls.response = o.response
), subjective AS NOT MATERIALIZED (
    -- marks join by the script and item numbers; orphan marks given to the student fill in where the
    -- script has none
    SELECT g.* EXCLUDE (key), NULL::VARCHAR AS answer_key, NULL::VARCHAR AS response, NULL::VARCHAR AS letter_set,
        NULL::BOOLEAN AS all_letters, NULL::INTEGER AS highest,
        coalesce(mo.exam_no, g.scanned_exam_no, g.script_ref) AS mark_ref,
        coalesce(md.final_score, mo.final_score) AS mark_final,
        coalesce(md.is_marked, mo.is_marked, false) AS is_marked,
        coalesce(md.out_of_range, mo.out_of_range, false) AS out_of_range,
        coalesce(md.disagreement, mo.disagreement, false) AS disagreement,
        md.ino IS NOT NULL OR mo.item IS NOT NULL AS has_mark_row
    FROM (SELECT g.* EXCLUDE (responses, subjective, items), unnest(g.items, recursive := true)
          FROM grid g WHERE g.subjective) g
    LEFT JOIN script_marks md ON md.script_no = g.script_no AND md.ino = g.ino
    LEFT JOIN orphan_marks mo ON md.ino IS NULL AND mo.subject = g.subject AND mo.student_id = g.student_id
        AND mo.item = g.item
), base AS NOT MATERIALIZED (
    SELECT * FROM objective UNION ALL BY NAME SELECT * FROM subjective
), read AS NOT MATERIALIZED (
    SELECT *,
        CASE WHEN type = 'subjective' THEN NULL
             WHEN type = 'numeric' THEN nullif(nullif(trim(response), ''), '-')
             ELSE letter_set END AS letters
    FROM base
), classified AS NOT MATERIALIZED (
    SELECT *,
        CASE WHEN type = 'subjective' THEN NULL
             WHEN letters IS NULL THEN 'blank'
             WHEN type = 'numeric' THEN CASE WHEN regexp_matches(letters, '^[0-9]+$') THEN 'ok' ELSE 'invalid' END
             WHEN NOT all_letters OR highest > 64 + options THEN 'invalid'
             WHEN type = 'single' AND length(letters) > 1 THEN 'multi'
             ELSE 'ok' END AS read_status
    FROM read
), group_state AS (
    -- optional groups (rules.md §2): bubbled choice, else the first k answered items in exam.yaml
    -- order; computed over the optional items only (few), then joined back
    SELECT script_no, ino,
        len(list_intersect(list_distinct(choices), list(item) OVER w)) AS n_bubbled,
        list_contains(choices, item) AS bubbled,
        count(*) FILTER (WHERE is_marked OR read_status <> 'blank') OVER w AS n_answered,
        row_number() OVER (PARTITION BY script_no, optional_group
                           ORDER BY (is_marked OR coalesce(read_status <> 'blank', false)) DESC, position) AS answer_order
    FROM (SELECT *, [trim(x) FOR x IN string_split(coalesce(optional_choice, ''), ',')] AS choices
          FROM classified WHERE optional)
    WINDOW w AS (PARTITION BY script_no, optional_group)
), counted AS (
    SELECT c.*, g.n_bubbled, g.n_answered,
        CASE WHEN c.optional_group IS NULL THEN true
             WHEN rc.action = 'choose_optional' THEN list_contains([trim(x) FOR x IN string_split(rc.value, ',')], c.item)
             WHEN g.n_bubbled = c.choose THEN g.bubbled
             ELSE g.answer_order <= c.choose END AS counted,
        c.optional_group IS NOT NULL AND (g.n_bubbled <> c.choose OR g.n_answered > c.choose) AS choice_conflict
    FROM classified c
    LEFT JOIN group_state g ON c.optional_group IS NOT NULL AND g.script_no = c.script_no AND g.ino = c.ino
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
SELECT s.exam_id, s.script_no, s.subject, s.student_id, s.item, s.type, s.present, s.response, s.letters, s.read_status,
    s.answer_key, CASE WHEN s.versioned THEN s.version END AS paper_version, CASE WHEN s.type = 'subjective' THEN s.mark_ref END AS mark_ref, s.counted, s.item_problem,
    s.group_first, s.choice_conflict, s.n_bubbled, s.n_answered,
    coalesce(rs.score_value, rf.score_value, s.read_score) AS score,
    rs.score_value IS NOT NULL OR rf.score_value IS NOT NULL AS score_set
FROM scored s
LEFT JOIN res rs ON rs.action = 'set_score' AND rs.subject = s.subject AND rs.item = s.item AND rs.code = s.item_problem
    AND rs.ref = CASE WHEN s.type = 'subjective' THEN s.mark_ref ELSE s.script_ref END
LEFT JOIN res rf ON rf.action = 'set_score' AND rf.code = 'MARKER_FLAGGED' AND rf.subject = s.subject
    AND rf.ref = s.mark_ref AND rf.score_item = s.item
