-- Subject scores with their cohort (rules.md §4), 等级赋分 of reselect subjects (§5) and ranks.
-- Core and first-choice subjects are ranked within the track, reselect subjects across all takers;
-- in a joint exam grade_rank is the joint rank and school_rank the rank within the school (§11).
-- school: the student's school in a joint exam, NULL otherwise (so school_rank is NULL there).
-- score_order: the place among the subject's ok scripts in (raw score desc, student_id) order, by
-- which item analysis splits its upper and lower groups (rules.md §8).
WITH cfg AS (
    SELECT settings FROM raw.exams WHERE exam_id = getvariable('exam_id')
), base AS (
    SELECT s.*, st.class_id, st.track, CASE WHEN st.joint THEN st.school END AS school, sub.role, sub.full_marks,
        CASE WHEN sub.role = 'reselect' THEN 'all' ELSE st.track END AS cohort_track,
        CASE WHEN s.status = 'ok' THEN s.scored_raw END AS raw_score
    FROM staging.subject_status s
    JOIN staging.students st ON st.exam_id = s.exam_id AND st.student_id = s.student_id
    JOIN raw.subjects sub ON sub.exam_id = s.exam_id AND sub.subject = s.subject
    WHERE s.exam_id = getvariable('exam_id')
), bands AS (
    -- the band table; shares compared in basis points so that 15% + 35% is exactly 50%
    SELECT i AS band_no,
        json_extract_string(settings, '$.conversion[' || i || '].band') AS band,
        sum(CAST(round(CAST(json_extract(settings, '$.conversion[' || i || '].share') AS DOUBLE) * 10000) AS BIGINT))
            OVER (ORDER BY i) AS cum_bp,
        CAST(json_extract(settings, '$.conversion[' || i || '].low') AS DOUBLE) AS t1,
        CAST(json_extract(settings, '$.conversion[' || i || '].high') AS DOUBLE) AS t2
    FROM cfg, range(CAST(json_array_length(settings, '$.conversion') AS BIGINT)) r(i)
), takers AS (
    SELECT student_id, subject, raw_score,
        count(*) OVER (PARTITION BY subject) AS n,
        rank() OVER (PARTITION BY subject ORDER BY raw_score DESC) - 1 AS n_higher
    FROM base WHERE role = 'reselect' AND status = 'ok'
), banded AS (
    SELECT t.*, arg_min(b.band_no, b.band_no) AS band_no
    FROM takers t JOIN bands b ON b.cum_bp * t.n > t.n_higher * 10000
    GROUP BY ALL
), converted AS (
    SELECT bd.student_id, bd.subject, b.band,
        CASE WHEN max(bd.raw_score) OVER w = min(bd.raw_score) OVER w THEN b.t2
             ELSE round_half_up(b.t1 + (bd.raw_score - min(bd.raw_score) OVER w) * (b.t2 - b.t1)
                                / (max(bd.raw_score) OVER w - min(bd.raw_score) OVER w)) END AS converted_score
    FROM banded bd JOIN bands b ON b.band_no = bd.band_no
    WINDOW w AS (PARTITION BY bd.subject, bd.band_no)
)
SELECT base.exam_id, base.student_id, base.subject, base.script_no, base.class_id, base.school, base.track,
    base.cohort_track, base.role,
    base.expected, base.status, base.raw_score, base.objective_score, base.subjective_score,
    c.converted_score, c.band,
    CASE WHEN base.role = 'reselect' THEN c.converted_score ELSE base.raw_score END AS total_score,
    CASE WHEN base.status = 'ok' THEN rank() OVER (PARTITION BY base.subject, base.cohort_track, base.status = 'ok'
                                                   ORDER BY base.raw_score DESC) END AS grade_rank,
    CASE WHEN base.status = 'ok' THEN rank() OVER (PARTITION BY base.subject, base.cohort_track, base.class_id,
                                                   base.status = 'ok' ORDER BY base.raw_score DESC) END AS class_rank,
    CASE WHEN base.status = 'ok' AND base.school IS NOT NULL THEN rank() OVER (
        PARTITION BY base.subject, base.cohort_track, base.school, base.status = 'ok'
        ORDER BY base.raw_score DESC) END AS school_rank,
    CASE WHEN base.status = 'ok' THEN row_number() OVER (PARTITION BY base.subject, base.status = 'ok'
                                                         ORDER BY base.raw_score DESC, base.student_id) END AS score_order
FROM base LEFT JOIN converted c ON c.student_id = base.student_id AND c.subject = base.subject
