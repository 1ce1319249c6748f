-- teachers.csv|xlsx normalised: one row per teacher × class × role (× subject). class_id by the
-- class_id macro, as staging.students makes it (the last number of the class name, prefixed by the
-- 学校/school column when the file has one); a class cell naming several classes ("1、2", "1,2", "1/2") gives a row
-- each. subject: the exam's subject code, matched by code or Chinese name (subject_text keeps what
-- the file says; an unknown subject leaves subject NULL). role: 任课/teacher → teacher,
-- 班主任/head → head, 备课组长/subject_lead → subject_lead, 年级主任/director → director (the aliases
-- of data_contracts/aliases.yaml); an empty role is `teacher` with a subject and `head` without one
-- (inputs.md), any other `teacher`.
WITH t AS (
    SELECT *, coalesce(nullif(trim(json_extract_string(extra, '$.学校')), ''),
                       nullif(trim(json_extract_string(extra, '$.school')), '')) AS school
    FROM raw.teachers WHERE exam_id = getvariable('exam_id')
), j AS (
    SELECT coalesce(bool_or(joint), false) AS joint FROM staging.students WHERE exam_id = getvariable('exam_id')
), split AS (
    SELECT t.*, trim(c) AS class_text
    FROM t, unnest(regexp_split_to_array(coalesce(t.class, ''), '[,，、;；/]+')) u(c)
    WHERE trim(c) <> ''
), subj AS (
    SELECT subject, name FROM raw.subjects WHERE exam_id = getvariable('exam_id')
), typed AS (
    SELECT s.*, nullif(trim(s.subject), '') AS subject_text, lower(trim(coalesce(s.role, ''))) AS role_text
    FROM split s
)
SELECT t.exam_id, trim(t.teacher_id) AS teacher_id, nullif(trim(t.name), '') AS teacher_name,
    class_id(CASE WHEN j.joint THEN t.school END, t.class_text) AS class_id,
    t.class_text AS class_name,
    (SELECT min(subj.subject) FROM subj WHERE lower(subj.subject) = lower(t.subject_text)
        OR lower(subj.name) = lower(t.subject_text)) AS subject,
    t.subject_text,
    coalesce(alias_of('role', t.role_text),
             CASE WHEN t.role_text = '' AND t.subject_text IS NULL THEN 'head' ELSE 'teacher' END) AS role,
    nullif(trim(t.role), '') AS role_text,
    t.school, j.joint, t.source_file, t.source_row
FROM typed t, j
