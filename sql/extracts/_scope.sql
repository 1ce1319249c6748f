-- extract_scope(exam, teacher): what one teacher may extract from one exam (rules.md §9), as data.
-- Not a template (the leading underscore); examflow.extracts creates it on every extract connection
-- and every template joins it. One row per allowed (class_id, subject), '*' a wildcard, from
-- staging.teacher_roles of that exam (teachers.csv normalised):
--   teacher       (任课)     → (class, subject) of each class × subject they teach
--   head          (班主任)   → (class, '*')     every subject of their class, the total included;
--                                               contact = true: the class's masked contacts
--   subject_lead  (备课组长) → ('*', subject)   every class of their subject
--   director      (年级主任) → ('*', '*')       the whole grade
-- A teacher with several roles gets the union. A row covers a cell (class_id, subject) when
-- scope.class_id IN ('*', class_id) AND scope.subject IN ('*', subject); subject 'total' (the total
-- score) is covered only by a '*' subject. An unknown teacher id has no rows: nothing is covered.
CREATE OR REPLACE TEMP MACRO extract_scope(exam, teacher) AS TABLE
SELECT teacher_id, class_id, subject, bool_or(contact) AS contact,
    list(DISTINCT role ORDER BY role) AS roles
FROM (
    SELECT teacher_id, class_id, subject, false AS contact, role FROM staging.teacher_roles
    WHERE exam_id = exam AND teacher_id = teacher AND role = 'teacher'
      AND class_id IS NOT NULL AND subject IS NOT NULL
    UNION ALL
    SELECT teacher_id, class_id, '*', true, role FROM staging.teacher_roles
    WHERE exam_id = exam AND teacher_id = teacher AND role = 'head' AND class_id IS NOT NULL
    UNION ALL
    SELECT teacher_id, '*', subject, false, role FROM staging.teacher_roles
    WHERE exam_id = exam AND teacher_id = teacher AND role = 'subject_lead' AND subject IS NOT NULL
    UNION ALL
    SELECT teacher_id, '*', '*', false, role FROM staging.teacher_roles
    WHERE exam_id = exam AND teacher_id = teacher AND role = 'director'
)
GROUP BY teacher_id, class_id, subject;
