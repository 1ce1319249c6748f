-- portal_cells(exam, teacher, office): the (class_id, subject) cells of one exam a portal account
-- may see (rules.md §12: exactly the extract scope). Not a page query (the leading underscore):
-- examflow.portal creates it after sql/extracts/_scope.sql on every connection. A teacher's cells
-- are the exam's class × subject cells (and class × 'total') that extract_scope covers, with the
-- extracts' own rule (a scope row covers a cell when its class_id is '*' or the class, and its
-- subject '*' or the subject); an office account (office = true) covers every cell.
CREATE OR REPLACE TEMP MACRO portal_cells(exam, teacher, office) AS TABLE
WITH scope AS (
    SELECT class_id, subject FROM extract_scope(exam, teacher) WHERE NOT office
    UNION ALL
    SELECT '*', '*' WHERE office
)
SELECT DISTINCT q.class_id, q.subject
FROM mart.class_quant q
JOIN scope sc ON sc.class_id IN ('*', q.class_id) AND sc.subject IN ('*', q.subject)
WHERE q.exam_id = exam AND q.class_id <> '*';
