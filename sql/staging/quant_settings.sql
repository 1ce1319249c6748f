-- The quantification settings of the exam (rules.md §6–§8), read once from raw.exams.settings
-- (exam.yaml over school.yaml over the defaults; examflow.settings_check has validated them):
-- thresholds, 三率一分 weights, rank bands, borderline band, the top of the converted scale, and
-- the teacher quantification weights by canonical metric name (aliases resolved, defaults filled).
-- A setting absent or null takes its default from examflow.config.DEFAULTS (the `setting` macro).
WITH e AS (
    SELECT exam_id, settings FROM raw.exams WHERE exam_id = getvariable('exam_id')
), base AS (
    SELECT exam_id,
        TRY_CAST(setting(settings, '$.thresholds.excellent') AS DOUBLE) AS excellent,
        TRY_CAST(setting(settings, '$.thresholds.good') AS DOUBLE) AS good,
        TRY_CAST(setting(settings, '$.thresholds.pass') AS DOUBLE) AS pass,
        TRY_CAST(setting(settings, '$.thresholds.low') AS DOUBLE) AS low,
        TRY_CAST(setting(settings, '$.three_rates_weights.mean') AS DOUBLE) AS w_mean,
        TRY_CAST(setting(settings, '$.three_rates_weights.pass') AS DOUBLE) AS w_pass,
        TRY_CAST(setting(settings, '$.three_rates_weights.excellent') AS DOUBLE) AS w_excellent,
        TRY_CAST(setting(settings, '$.three_rates_weights.low') AS DOUBLE) AS w_low,
        TRY_CAST(setting(settings, '$.borderline_band') AS DOUBLE) AS borderline_band,
        TRY_CAST(setting(settings, '$.rank_bands') AS BIGINT[]) AS rank_bands,
        -- a reselect subject counts the top of its converted scale (100 with the Henan table) in total full marks
        (SELECT max(TRY_CAST(json_extract(c.value, '$.high') AS DOUBLE))
         FROM json_each(setting(settings, '$.conversion')) c) AS converted_top,
        TRY_CAST(setting(settings, '$.teacher_quant.relative') AS BOOLEAN) AS relative,
        CASE WHEN json_type(json_extract(settings, '$.teacher_quant.weights')) = 'OBJECT'
             THEN json_extract(settings, '$.teacher_quant.weights') END AS weights_json
    FROM e
), given AS (
    -- teacher_quant.weights as given, names resolved to the canonical metric (the `metric` aliases)
    SELECT b.exam_id, w.key AS given_name, TRY_CAST(w.value AS DOUBLE) AS weight, w.id AS ord,
        coalesce(alias_of('metric', w.key), lower(w.key)) AS metric
    FROM base b, json_each(b.weights_json) w
    WHERE b.weights_json IS NOT NULL
), given_list AS (
    SELECT list({'metric': metric, 'weight': sum_w} ORDER BY first_ord) AS weights
    FROM (SELECT metric, sum(weight) AS sum_w, min(ord) AS first_ord FROM given GROUP BY metric)
), has_lines AS (
    SELECT count(*) > 0 AS any_line FROM (
        SELECT 1 FROM e, json_each(json_extract(e.settings, '$.cut_lines')) t
        WHERE json_type(t.value) = 'ARRAY' AND json_array_length(t.value) > 0
           OR json_type(t.value) = 'OBJECT'
    )
), defaults AS (
    -- default: the 三率一分 weights (low subtracted, as in 三率一分) + 0.1 × contribution rate of the first line
    SELECT b.exam_id, list_filter([
        {'metric': 'mean_pct', 'weight': b.w_mean},
        {'metric': 'pass_rate', 'weight': b.w_pass},
        {'metric': 'excellent_rate', 'weight': b.w_excellent},
        {'metric': 'low_rate', 'weight': -b.w_low},
        {'metric': 'contribution_rate', 'weight': CASE WHEN h.any_line THEN 0.1 ELSE 0.0 END}], lambda x: x.weight <> 0)
        AS weights
    FROM base b, has_lines h
)
SELECT b.* EXCLUDE (weights_json),
    b.weights_json IS NULL AS default_weights,
    coalesce(g.weights, d.weights) AS teacher_weights,
    h.any_line
FROM base b JOIN defaults d ON d.exam_id = b.exam_id, has_lines h, given_list g
