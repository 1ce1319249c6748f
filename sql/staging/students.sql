-- The roster normalised: class_id is the class number ("3" for 3班 / 高三(3)班), prefixed by the
-- school in joint exams; track is physics / history / all; electives are subject codes, whether
-- written as codes, names or one-character abbreviations (物化生). Tracks and elective names are
-- read through staging.aliases (data_contracts/aliases.yaml), after the exam's own codes and names.
WITH r AS (
    SELECT * FROM raw.roster WHERE exam_id = getvariable('exam_id')
), alias AS (
    SELECT map_from_entries(list({'key': k, 'value': v})) AS m
    FROM (
        SELECT DISTINCT ON (k) k, v FROM (
            SELECT lower(subject) AS k, subject AS v, 0 AS prio FROM raw.subjects WHERE exam_id = getvariable('exam_id')
            UNION ALL SELECT lower(name), subject, 0 FROM raw.subjects WHERE exam_id = getvariable('exam_id')
            UNION ALL SELECT alias, value, 1 FROM staging.aliases WHERE kind = 'subject'
        ) ORDER BY k, prio
    )
), has_electives AS (
    SELECT bool_or(nullif(trim(electives), '') IS NOT NULL) AS any_electives FROM r
), j AS (
    -- joint (联考, rules.md §11): the roster names two or more schools, or exam.yaml says `joint: true`.
    -- The one place this rule is written; later models read staging.students.joint.
    SELECT coalesce((SELECT TRY_CAST(json_extract(settings, '$.joint') AS BOOLEAN) FROM raw.exams
                     WHERE exam_id = getvariable('exam_id')), false)
        OR count(DISTINCT nullif(trim(school), '')) >= 2 AS joint
    FROM r
)
SELECT
    r.exam_id,
    trim(r.student_id) AS student_id,
    trim(r.name) AS name,
    class_id(CASE WHEN j.joint THEN r.school END, r.class) AS class_id,
    trim(r.class) AS class_name,
    coalesce(alias_of('track', r.track), 'all') AS track,
    list_sort(list_distinct(flatten([
        CASE WHEN alias.m[lower(t)] IS NOT NULL THEN [alias.m[lower(t)]]
             ELSE [alias.m[c] FOR c IN string_split(t, '') IF alias.m[c] IS NOT NULL] END
        FOR t IN regexp_split_to_array(coalesce(trim(r.electives), ''), '[,，、;；/+\s]+') IF t <> '']))) AS electives,
    nullif(trim(r.electives), '') IS NOT NULL OR NOT has_electives.any_electives AS electives_known,
    NOT has_electives.any_electives AS electives_unused,
    trim(r.exam_no) AS exam_no,
    nullif(trim(r.school), '') AS school,
    j.joint,
    r.id_card,
    r.phone,
    r.source_row
FROM r, alias, has_electives, j
