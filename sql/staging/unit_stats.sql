-- Quantification of this exam per unit (rules.md §6, §11) without the comparison to `previous`: one
-- rule for classes and schools. unit = 'class' (unit_id the class_id), 'school' (unit_id the school;
-- joint exams only) or 'cohort' (unit_id '*', the cohort's own row), per subject × cohort track and
-- per total × track. Only `ok` scores enter a figure; a unit with nobody sat has NULL figures, not
-- zeros. rank_by_mean ranks the units of one kind. Means and sds are taken over the scores in
-- student_id order, so that a re-run gives the same bits.
WITH cfg AS (
    SELECT * FROM staging.quant_settings WHERE exam_id = getvariable('exam_id')
), q AS (
    SELECT q.*, cfg.excellent, cfg.good, cfg.pass, cfg.low
    FROM staging.quant_scores q, cfg WHERE q.exam_id = getvariable('exam_id')
), agg AS (
    SELECT subject, track,
        CASE WHEN grouping(class_id) = 0 THEN 'class' WHEN grouping(school) = 0 THEN 'school' ELSE 'cohort' END AS unit,
        CASE WHEN grouping(class_id) = 0 THEN class_id WHEN grouping(school) = 0 THEN school ELSE '*' END AS unit_id,
        any_value(role) AS role, max(full_marks) AS full_marks,
        count(*) FILTER (WHERE expected) AS n_enrolled,
        count(*) FILTER (WHERE status = 'ok') AS n_sat,
        count(*) FILTER (WHERE status IN ('absent', 'incomplete')) AS n_absent,
        count(*) FILTER (WHERE status = 'pending') AS n_pending,
        count(*) FILTER (WHERE status = 'void') AS n_void,
        list(score ORDER BY student_id) FILTER (WHERE status = 'ok') AS ok_scores,
        median(score) FILTER (WHERE status = 'ok') AS median,
        max(score) FILTER (WHERE status = 'ok') AS max,
        min(score) FILTER (WHERE status = 'ok') AS min,
        count(*) FILTER (WHERE status = 'ok' AND score >= excellent * full_marks - 1e-9) AS n_excellent,
        count(*) FILTER (WHERE status = 'ok' AND score >= good * full_marks - 1e-9) AS n_good,
        count(*) FILTER (WHERE status = 'ok' AND score >= pass * full_marks - 1e-9) AS n_pass,
        count(*) FILTER (WHERE status = 'ok' AND score < low * full_marks - 1e-9) AS n_low
    FROM q
    GROUP BY GROUPING SETS ((subject, track, class_id), (subject, track, school), (subject, track))
    HAVING grouping(school) = 1 OR school IS NOT NULL
), rates AS (
    SELECT a.* EXCLUDE (ok_scores), list_avg(ok_scores) AS mean, list_aggregate(ok_scores, 'stddev_pop') AS sd,
        CASE WHEN n_sat > 0 THEN n_excellent / n_sat END AS excellent_rate,
        CASE WHEN n_sat > 0 THEN n_good / n_sat END AS good_rate,
        CASE WHEN n_sat > 0 THEN n_pass / n_sat END AS pass_rate,
        CASE WHEN n_sat > 0 THEN n_low / n_sat END AS low_rate,
        CASE WHEN full_marks > 0 THEN 100 * list_avg(ok_scores) / full_marks END AS mean_pct
    FROM agg a
), scored AS (
    SELECT r.*,
        cfg.w_mean * r.mean_pct + cfg.w_pass * 100 * r.pass_rate + cfg.w_excellent * 100 * r.excellent_rate
            - cfg.w_low * 100 * r.low_rate AS three_rates_one_score
    FROM rates r, cfg
), cohort AS (
    SELECT s.*,
        c.mean AS cohort_mean, c.sd AS cohort_sd, c.n_sat AS cohort_n_sat, c.mean_pct AS cohort_mean_pct,
        c.excellent_rate AS cohort_excellent_rate, c.good_rate AS cohort_good_rate, c.pass_rate AS cohort_pass_rate,
        c.low_rate AS cohort_low_rate, c.three_rates_one_score AS cohort_three_rates_one_score
    FROM scored s LEFT JOIN scored c ON c.subject = s.subject AND c.track = s.track AND c.unit = 'cohort'
)
SELECT getvariable('exam_id') AS exam_id, unit, unit_id, subject, track, role, full_marks,
    n_enrolled, n_sat, n_absent, n_pending, n_void, mean, sd, median, max, min,
    n_excellent, n_good, n_pass, n_low, excellent_rate, good_rate, pass_rate, low_rate, mean_pct,
    mean - cohort_mean AS mean_diff,
    CASE WHEN cohort_mean <> 0 THEN mean / cohort_mean END AS mean_ratio,
    CASE WHEN unit <> 'cohort' AND mean IS NOT NULL THEN
        rank() OVER (PARTITION BY subject, track, unit, mean IS NOT NULL ORDER BY round(mean, 9) DESC)
    END AS rank_by_mean,
    three_rates_one_score,
    CASE WHEN cohort_sd > 0 THEN (mean - cohort_mean) / cohort_sd END AS z,
    cohort_n_sat, cohort_mean, cohort_sd, cohort_mean_pct, cohort_excellent_rate, cohort_good_rate, cohort_pass_rate,
    cohort_low_rate, cohort_three_rates_one_score
FROM cohort
