-- mart.quant_formula: the teacher quantification formula in force for the exam (rules.md §7), as
-- text to print under every teacher table (Chinese and English) and as data (weights, relative).
WITH cfg AS (
    SELECT * FROM staging.quant_settings WHERE exam_id = getvariable('exam_id')
), first_line AS (
    SELECT string_agg(DISTINCT line, '/' ORDER BY line) AS line
    FROM mart.cut_lines WHERE exam_id = getvariable('exam_id') AND line_no = 0
), terms AS (
    SELECT w.weight, w.ord,
        CASE w.metric
            WHEN 'mean_pct' THEN '平均分率' WHEN 'mean_ratio' THEN '比均' WHEN 'mean_diff' THEN '均分差'
            WHEN 'excellent_rate' THEN '优秀率' WHEN 'good_rate' THEN '良好率' WHEN 'pass_rate' THEN '及格率'
            WHEN 'low_rate' THEN '低分率' WHEN 'three_rates_one_score' THEN '三率一分'
            WHEN 'contribution_rate' THEN '贡献率' WHEN 'hit_rate' THEN '命中率' WHEN 'over_line_rate' THEN '上线率'
            WHEN 'value_added' THEN '增值' ELSE w.metric END
          || CASE WHEN w.metric IN ('contribution_rate', 'hit_rate', 'over_line_rate') AND fl.line IS NOT NULL
                  THEN '(' || fl.line || ')' ELSE '' END AS label_zh,
        w.metric
          || CASE WHEN w.metric IN ('contribution_rate', 'hit_rate', 'over_line_rate') AND fl.line IS NOT NULL
                  THEN '(' || fl.line || ')' ELSE '' END AS label_en
    FROM (SELECT unnest(teacher_weights, recursive := true), generate_subscripts(teacher_weights, 1) AS ord FROM cfg) w,
        first_line fl
), text AS (
    SELECT
        string_agg(CASE WHEN ord = 1 THEN CASE WHEN weight < 0 THEN '−' ELSE '' END ELSE
                        CASE WHEN weight < 0 THEN ' − ' ELSE ' + ' END END
                   || CAST(abs(weight) AS VARCHAR) || '×' || label_zh, '' ORDER BY ord) AS zh,
        string_agg(CASE WHEN ord = 1 THEN CASE WHEN weight < 0 THEN '-' ELSE '' END ELSE
                        CASE WHEN weight < 0 THEN ' - ' ELSE ' + ' END END
                   || CAST(abs(weight) AS VARCHAR) || ' × ' || label_en, '' ORDER BY ord) AS en
    FROM terms
)
SELECT cfg.exam_id,
    '量化分 = ' || coalesce(t.zh, '0')
      || '（平均分率为平均分占满分的百分比，各率按百分数计'
      || CASE WHEN cfg.relative THEN '；各项取与年级（同类考生）之差' ELSE '' END || '）' AS formula,
    'quant_score = ' || coalesce(t.en, '0')
      || ' (mean_pct = mean as a percentage of full marks; rates in percent'
      || CASE WHEN cfg.relative THEN '; each indicator minus the cohort''s' ELSE '' END || ')' AS formula_en,
    cfg.teacher_weights AS weights, cfg.relative, cfg.default_weights
FROM cfg, text t
