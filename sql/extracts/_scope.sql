-- The macros every template may use (the teacher portal too). Not a template (the leading
-- underscore); examflow.extracts creates them on every extract connection.
--
-- extract_scope(exam, teacher): what one teacher may extract from one exam (rules.md §9, §11), as data.
-- Every template joins it. One row per allowed (class_id, subject), '*' a wildcard, from
-- staging.teacher_roles of that exam (teachers.csv normalised):
--   teacher       (任课)     → (class, subject) of each class × subject they teach
--   head          (班主任)   → (class, '*')     every subject of their class, the total included;
--                                               contact = true: the class's masked contacts
--   subject_lead  (备课组长) → ('*', subject)   every class of their subject
--   director      (年级主任) → ('*', '*')       the whole grade
--   district      (联考负责人) → ('*', '*')     every school of a joint exam
-- In a joint exam (联考) scope stops at the school: class ids carry the school, and the wildcards of
-- a subject_lead or director of school X become the classes of school X, one row each (school_wide
-- = X), so a template's class test is the same everywhere; a subject_lead or director whose row
-- names no school sees no class. Only `district` sees every school.
-- A teacher with several roles gets the union. A row covers a cell (class_id, subject) when
-- scope.class_id IN ('*', class_id) AND scope.subject IN ('*', subject); subject 'total' (the total
-- score) is covered only by a '*' subject. An unknown teacher id has no rows: nothing is covered.
CREATE OR REPLACE TEMP MACRO extract_scope(exam, teacher) AS TABLE
WITH r AS (
    SELECT *, coalesce(joint, false) AS is_joint FROM staging.teacher_roles WHERE exam_id = exam AND teacher_id = teacher
), classes AS (
    SELECT DISTINCT school, class_id FROM staging.students WHERE exam_id = exam
), wide AS (
    -- subject_lead and director: the whole grade, or in a joint exam the classes of their school
    SELECT r.teacher_id, r.role, CASE WHEN r.role = 'director' THEN '*' ELSE r.subject END AS subject,
        CASE WHEN r.is_joint THEN c.class_id ELSE '*' END AS class_id,
        CASE WHEN r.is_joint THEN r.school END AS school_wide
    FROM r LEFT JOIN classes c ON r.is_joint AND c.school = r.school
    WHERE r.role = 'director' OR (r.role = 'subject_lead' AND r.subject IS NOT NULL)
)
SELECT teacher_id, class_id, subject, bool_or(contact) AS contact,
    list(DISTINCT role ORDER BY role) AS roles, max(school_wide) AS school_wide
FROM (
    SELECT teacher_id, class_id, subject, false AS contact, role, NULL AS school_wide FROM r
    WHERE role = 'teacher' AND class_id IS NOT NULL AND subject IS NOT NULL
    UNION ALL
    SELECT teacher_id, class_id, '*', true, role, NULL FROM r WHERE role = 'head' AND class_id IS NOT NULL
    UNION ALL
    SELECT teacher_id, class_id, subject, false, role, school_wide FROM wide WHERE class_id IS NOT NULL
    UNION ALL
    SELECT teacher_id, '*', '*', false, role, NULL FROM r WHERE role = 'district'
)
GROUP BY teacher_id, class_id, subject;

-- score_cells(): a student's scores as cells, one per subject they sit (mart.subject_scores: raw
-- score, 赋分, band) and one with subject 'total' (mart.totals, 总分), each with the subject's name and
-- position in exam.yaml (NULL for the total), status, grade and class rank and rank change; every
-- exam's (filter by exam_id or student_id).
CREATE OR REPLACE TEMP MACRO score_cells() AS TABLE
SELECT c.*, coalesce(sb.name, CASE WHEN c.subject = 'total' THEN '总分' END, c.subject) AS subject_name,
    sb.position
FROM (
    SELECT exam_id, student_id, class_id, subject, status, raw_score AS score, converted_score, band, grade_rank,
        class_rank, rank_change
    FROM mart.subject_scores
    UNION ALL
    SELECT exam_id, student_id, class_id, 'total', status, total, NULL, NULL, grade_rank, class_rank, rank_change
    FROM mart.totals
) c
LEFT JOIN raw.subjects sb ON sb.exam_id = c.exam_id AND sb.subject = c.subject;
