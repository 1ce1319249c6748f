-- mart.teacher_quant (教师量化, rules.md §7). Rows:
--   role 'teacher': one per teacher × class × subject they teach (任课 rows of teachers.csv), with
--     that class × subject's class_quant figures and its first line's line figures, and one pooled
--     row per teacher × subject (class_id = '*'): counts summed, means and rates weighted by n_sat,
--     contribution_rate = Σ double_over / Σ n_over_line;
--   role 'head': one per head teacher × class on the class total (subject = 'total'): total figures,
--     n_over_line (first line), n_over_by_line (every line), rank_band_counts, value added.
-- A class mixing tracks is pooled over its tracks the same way. quant_score = Σ weight × indicator
-- over staging.quant_settings.teacher_weights (mart.quant_formula prints it): rates, ratios and the
-- mean as percentages of full marks, with teacher_quant.relative each indicator minus the cohort's;
-- an indicator that is undefined for the row (no line, nobody over it) counts 0; NULL when nobody sat.
WITH cfg AS (
    SELECT * FROM staging.quant_settings WHERE exam_id = getvariable('exam_id')
), tr AS (
    SELECT teacher_id, class_id, CASE WHEN role = 'head' THEN NULL ELSE subject END AS subject, role,
        min(source_row) AS source_row
    FROM staging.teacher_roles
    WHERE exam_id = getvariable('exam_id') AND (role = 'head' OR (role = 'teacher' AND subject IS NOT NULL))
    GROUP BY ALL
), names AS (
    SELECT teacher_id, arg_min(teacher_name, source_row) FILTER (WHERE teacher_name IS NOT NULL) AS teacher_name
    FROM staging.teacher_roles WHERE exam_id = getvariable('exam_id') GROUP BY ALL
), cq AS (
    SELECT * FROM mart.class_quant WHERE exam_id = getvariable('exam_id')
), la AS (
    SELECT * FROM mart.line_analysis WHERE exam_id = getvariable('exam_id')
), cells AS (
    -- one class × subject × cohort track, with its first line's figures (a reselect subject's 'all'
    -- cohort gathers the lines of every student track)
    SELECT c.class_id, c.subject, c.track, c.n_sat, c.mean, c.mean_pct, c.mean_diff, c.mean_ratio, c.excellent_rate,
        c.good_rate, c.pass_rate, c.low_rate, c.three_rates_one_score, c.value_added,
        k.mean_pct AS c_mean_pct, k.excellent_rate AS c_excellent_rate, k.good_rate AS c_good_rate,
        k.pass_rate AS c_pass_rate, k.low_rate AS c_low_rate, k.three_rates_one_score AS c_three_rates_one_score,
        (SELECT sum(l.double_over) FROM la l WHERE l.class_id = c.class_id AND l.subject = c.subject
            AND l.line_no = 0 AND (l.track = c.track OR c.track = 'all')) AS double_over,
        (SELECT sum(l.single_over) FROM la l WHERE l.class_id = c.class_id AND l.subject = c.subject
            AND l.line_no = 0 AND (l.track = c.track OR c.track = 'all')) AS single_over,
        (SELECT sum(l.n_over_line) FROM la l WHERE l.class_id = c.class_id AND l.subject = c.subject
            AND l.line_no = 0 AND (l.track = c.track OR c.track = 'all')) AS n_over_line,
        (SELECT string_agg(DISTINCT l.line, '/' ORDER BY l.line) FROM la l WHERE l.class_id = c.class_id
            AND l.subject = c.subject AND l.line_no = 0 AND (l.track = c.track OR c.track = 'all')) AS line,
        (SELECT sum(l.double_over) / nullif(sum(l.n_over_line), 0) FROM la l WHERE l.class_id = '*'
            AND l.subject = c.subject AND l.line_no = 0 AND (l.track = c.track OR c.track = 'all'))
            AS c_contribution_rate,
        (SELECT sum(l.double_over) / nullif(sum(l.single_over), 0) FROM la l WHERE l.class_id = '*'
            AND l.subject = c.subject AND l.line_no = 0 AND (l.track = c.track OR c.track = 'all')) AS c_hit_rate,
        (SELECT sum(l.n_over_line) FROM la l WHERE l.class_id = '*' AND l.subject = 'total' AND l.line_no = 0
            AND l.track = c.track) AS c_n_over_line,
        k.n_sat AS c_n_sat
    FROM cq c LEFT JOIN cq k ON k.class_id = '*' AND k.subject = c.subject AND k.track = c.track
    WHERE c.class_id <> '*'
), assigned AS (
    SELECT tr.teacher_id, tr.role, tr.class_id, coalesce(tr.subject, 'total') AS subject, cells.*
        EXCLUDE (class_id, subject)
    FROM tr LEFT JOIN cells ON cells.class_id = tr.class_id
        AND cells.subject = CASE WHEN tr.role = 'head' THEN 'total' ELSE tr.subject END
    WHERE tr.role = 'teacher' OR tr.role = 'head'
), pooled AS (
    SELECT teacher_id, role, subject,
        CASE WHEN grouping(class_id) = 1 THEN '*' ELSE class_id END AS class_id,
        count(DISTINCT class_id) AS n_classes,
        string_agg(DISTINCT track, ',' ORDER BY track) AS tracks,
        coalesce(sum(n_sat), 0) AS n_sat,
        weighted_mean(mean, n_sat, class_id, track) AS mean,
        weighted_mean(mean_pct, n_sat, class_id, track) AS mean_pct,
        weighted_mean(mean_diff, n_sat, class_id, track) AS mean_diff,
        weighted_mean_of_known(mean_ratio, n_sat, class_id, track) AS mean_ratio,
        weighted_mean(excellent_rate, n_sat, class_id, track) AS excellent_rate,
        weighted_mean(good_rate, n_sat, class_id, track) AS good_rate,
        weighted_mean(pass_rate, n_sat, class_id, track) AS pass_rate,
        weighted_mean(low_rate, n_sat, class_id, track) AS low_rate,
        weighted_mean(three_rates_one_score, n_sat, class_id, track) AS three_rates_one_score,
        weighted_mean_of_known(value_added, n_sat, class_id, track) AS value_added,
        string_agg(DISTINCT line, '/' ORDER BY line) AS line,
        sum(n_over_line) AS n_over_line,
        sum(single_over) AS single_over,
        sum(double_over) AS double_over,
        sum(double_over) / nullif(sum(single_over), 0) AS hit_rate,
        sum(double_over) / nullif(sum(n_over_line), 0) AS contribution_rate,
        -- the cohort's figures, weighted like the row's own
        weighted_mean(c_mean_pct, n_sat, class_id, track) AS c_mean_pct,
        weighted_mean(c_excellent_rate, n_sat, class_id, track) AS c_excellent_rate,
        weighted_mean(c_good_rate, n_sat, class_id, track) AS c_good_rate,
        weighted_mean(c_pass_rate, n_sat, class_id, track) AS c_pass_rate,
        weighted_mean(c_low_rate, n_sat, class_id, track) AS c_low_rate,
        weighted_mean(c_three_rates_one_score, n_sat, class_id, track) AS c_three_rates_one_score,
        weighted_mean_of_known(c_contribution_rate, n_sat, class_id, track) AS c_contribution_rate,
        weighted_mean_of_known(c_hit_rate, n_sat, class_id, track) AS c_hit_rate,
        list_sum(list(n_sat * c_n_over_line / c_n_sat ORDER BY class_id, track))
            / nullif(sum(n_sat) FILTER (WHERE c_n_sat > 0), 0) AS c_over_line_rate
    FROM assigned
    -- float sums in (class, track) order, so that a re-run gives the same bits
    GROUP BY GROUPING SETS ((teacher_id, role, subject, class_id), (teacher_id, role, subject))
    -- a pooled row for subject teachers only: a head teacher's row is the class's
    HAVING grouping(class_id) = 0 OR role = 'teacher'
), head_lines AS (
    SELECT class_id, map(list(line ORDER BY line_no, line), list(n ORDER BY line_no, line)) AS n_over_by_line
    FROM (SELECT class_id, line, min(line_no) AS line_no, sum(n_over_line) AS n FROM la WHERE subject = 'total'
          GROUP BY ALL)
    GROUP BY ALL
), head_bands AS (
    SELECT class_id, map(list(top ORDER BY top), list(n ORDER BY top)) AS rank_band_counts
    FROM (SELECT class_id, top, sum(n) AS n FROM mart.rank_bands WHERE exam_id = getvariable('exam_id') GROUP BY ALL)
    GROUP BY ALL
), head_first AS (
    SELECT class_id, string_agg(DISTINCT line, '/' ORDER BY line) AS line, sum(n_over_line) AS n_over_line
    FROM la WHERE subject = 'total' AND line_no = 0 GROUP BY ALL
), shaped AS (
    SELECT p.* REPLACE (
            CASE WHEN p.role = 'head' THEN hf.line ELSE p.line END AS line,
            CASE WHEN p.role = 'head' THEN hf.n_over_line ELSE p.n_over_line END AS n_over_line,
            CASE WHEN p.role = 'head' THEN NULL ELSE p.single_over END AS single_over,
            CASE WHEN p.role = 'head' THEN NULL ELSE p.double_over END AS double_over,
            CASE WHEN p.role = 'head' THEN NULL ELSE p.hit_rate END AS hit_rate,
            CASE WHEN p.role = 'head' THEN NULL ELSE p.contribution_rate END AS contribution_rate),
        CASE WHEN p.role = 'head' AND p.n_sat > 0 THEN hf.n_over_line / p.n_sat END AS over_line_rate,
        CASE WHEN p.role = 'head' THEN hl.n_over_by_line END AS n_over_by_line,
        CASE WHEN p.role = 'head' THEN hb.rank_band_counts END AS rank_band_counts
    FROM pooled p
    LEFT JOIN head_first hf ON hf.class_id = p.class_id AND p.role = 'head'
    LEFT JOIN head_lines hl ON hl.class_id = p.class_id AND p.role = 'head'
    LEFT JOIN head_bands hb ON hb.class_id = p.class_id AND p.role = 'head'
), indicators AS (
    -- every metric a weight may name: (own value, cohort value), in percentage points
    SELECT s.*,
        map {
            'mean_pct': [s.mean_pct, s.c_mean_pct],
            'mean_ratio': [100 * s.mean_ratio, 100.0],
            'mean_diff': [s.mean_diff, 0.0],
            'excellent_rate': [100 * s.excellent_rate, 100 * s.c_excellent_rate],
            'good_rate': [100 * s.good_rate, 100 * s.c_good_rate],
            'pass_rate': [100 * s.pass_rate, 100 * s.c_pass_rate],
            'low_rate': [100 * s.low_rate, 100 * s.c_low_rate],
            'three_rates_one_score': [s.three_rates_one_score, s.c_three_rates_one_score],
            'contribution_rate': [100 * s.contribution_rate, 100 * s.c_contribution_rate],
            'hit_rate': [100 * s.hit_rate, 100 * s.c_hit_rate],
            'over_line_rate': [100 * s.over_line_rate, 100 * s.c_over_line_rate],
            'value_added': [s.value_added, 0.0]
        } AS ind
    FROM shaped s
), scored AS (
    SELECT i.*,
        CASE WHEN i.n_sat > 0 THEN list_sum([
            w.weight * coalesce(CASE WHEN cfg.relative THEN i.ind[w.metric][1] - i.ind[w.metric][2]
                                     ELSE i.ind[w.metric][1] END, 0)
            FOR w IN cfg.teacher_weights]) END AS quant_score
    FROM indicators i, cfg
)
SELECT getvariable('exam_id') AS exam_id, s.teacher_id, n.teacher_name, s.class_id, s.subject, s.role,
    s.n_classes, s.tracks AS track, s.n_sat, s.mean, s.mean_pct, s.mean_diff, s.mean_ratio,
    s.excellent_rate, s.good_rate, s.pass_rate, s.low_rate, s.three_rates_one_score, s.value_added,
    s.line, s.n_over_line, s.single_over, s.double_over, s.hit_rate, s.contribution_rate, s.over_line_rate,
    s.n_over_by_line, s.rank_band_counts,
    s.quant_score,
    CASE WHEN s.quant_score IS NOT NULL THEN
        rank() OVER (PARTITION BY s.role, s.subject, s.class_id = '*', s.quant_score IS NOT NULL
                     ORDER BY round(s.quant_score, 9) DESC) END AS quant_rank
FROM scored s LEFT JOIN names n ON n.teacher_id = s.teacher_id
