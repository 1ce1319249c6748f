-- Marks per subject, exam number (as the marking export has it) and subjective item: the newest
-- row in (file, row) order wins; the final score follows rules.md §2 (arbitrated: it is the
-- arbitration mark, which replaces the first two).
WITH keyed AS NOT MATERIALIZED (
    SELECT *, hash(subject, trim(exam_no), item) AS key_hash
    FROM raw.marks WHERE exam_id = getvariable('exam_id') AND nullif(trim(exam_no), '') IS NOT NULL
), repeated AS (
    -- marks given more than once (rare), found on one integer per row rather than on three strings (at
    -- 500,000 students a hash table of 20 M string keys outgrows the memory limit and spills): a hash
    -- shared by two different keys only sends their rows through the window below, which partitions
    -- by the keys themselves
    SELECT key_hash FROM keyed GROUP BY ALL HAVING count(*) > 1
), m AS (
    SELECT k.*, 1 AS newest FROM keyed k ANTI JOIN repeated r USING (key_hash)
    UNION ALL
    SELECT k.*, row_number() OVER (PARTITION BY k.subject, trim(k.exam_no), k.item
                                   ORDER BY k.source_file DESC, k.source_row DESC) AS newest
    FROM keyed k SEMI JOIN repeated r USING (key_hash)
), cfg AS (
    SELECT TRY_CAST(setting(settings, '$.double_mark_tolerance') AS DOUBLE) AS tolerance
    FROM raw.exams WHERE exam_id = getvariable('exam_id')
), typed AS (
    SELECT m.exam_id, m.subject, trim(m.exam_no) AS exam_no, m.item, m.shape, m.source_file, m.source_row,
        nullif(trim(m.score1), '') AS t1, nullif(trim(m.score2), '') AS t2, nullif(trim(m.arbitration), '') AS ta,
        TRY_CAST(trim(m.score1) AS DOUBLE) AS s1, TRY_CAST(trim(m.score2) AS DOUBLE) AS s2,
        TRY_CAST(trim(m.arbitration) AS DOUBLE) AS sa,
        nullif(trim(m.marker1), '') AS marker1, nullif(trim(m.marker2), '') AS marker2, nullif(trim(m.arbiter), '') AS arbiter,
        nullif(trim(m.flag), '') AS flag,
        i.full_marks, coalesce(i.tolerance, cfg.tolerance) AS tolerance
    FROM m
    JOIN raw.items i ON i.exam_id = m.exam_id AND i.subject = m.subject AND i.item = m.item
    CROSS JOIN cfg
    WHERE m.newest = 1
), checked AS (
    SELECT *,
        bad_mark(t1, s1, full_marks) OR bad_mark(t2, s2, full_marks) OR bad_mark(ta, sa, full_marks) AS out_of_range
    FROM typed
)
SELECT *,
    s1 IS NOT NULL AND s2 IS NOT NULL AND sa IS NULL AND abs(s1 - s2) > tolerance AS disagreement,
    NOT out_of_range AND sa IS NOT NULL AS arbitrated,
    CASE WHEN out_of_range THEN NULL
         WHEN arbitrated THEN sa
         WHEN s1 IS NOT NULL AND s2 IS NOT NULL AND abs(s1 - s2) <= tolerance THEN round_half_up(s1 + s2) / 2
         WHEN s1 IS NOT NULL AND s2 IS NOT NULL THEN NULL
         ELSE coalesce(s1, s2) END AS final_score,
    s1 IS NOT NULL OR s2 IS NOT NULL OR sa IS NOT NULL AS is_marked
FROM checked
