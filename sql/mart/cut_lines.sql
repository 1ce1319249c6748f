-- mart.cut_lines (上线分析, rules.md §6): every line of the `cut_lines` setting for every track it
-- applies to. `cut_lines` is either a map track → list of lines (physics / history / all, or any
-- alias of them in data_contracts/aliases.yaml: 物理类, 历史类, …), a track without its own list
-- taking the `all` list, or one list for every track. A line `top: N` scores the total of the N-th student of the track in total order (everyone tied
-- with that total is over it; with fewer than N ranked students, the lowest total); `score: S` is
-- S. n_over: the track's students with a total ≥ the line. line_no orders the lines of a track
-- (0 = the first line, the one teacher quantification uses); band: the line's own borderline band
-- (its `band:`, else `borderline_band`).
WITH cfg AS (
    SELECT q.*, e.settings FROM staging.quant_settings q JOIN raw.exams e ON e.exam_id = q.exam_id
    WHERE q.exam_id = getvariable('exam_id')
), given AS (
    -- (track key, list of lines) as given
    SELECT coalesce(alias_of('track', t.key), t.key) AS track_key,
        t.value AS lines
    FROM cfg, json_each(json_extract(cfg.settings, '$.cut_lines')) t
    WHERE json_type(json_extract(cfg.settings, '$.cut_lines')) = 'OBJECT' AND json_type(t.value) = 'ARRAY'
    UNION ALL
    SELECT '*' AS track_key, json_extract(cfg.settings, '$.cut_lines') AS lines
    FROM cfg WHERE json_type(json_extract(cfg.settings, '$.cut_lines')) = 'ARRAY'
), tracks AS (
    SELECT DISTINCT track FROM staging.totals_ranked WHERE exam_id = getvariable('exam_id')
), applies AS (
    -- a track's lines: its own list, else the `all` list, else the one list for every track
    SELECT tr.track, g.lines FROM tracks tr JOIN given g ON g.track_key = tr.track
    UNION ALL
    SELECT tr.track, g.lines FROM tracks tr JOIN given g ON g.track_key IN ('all', '*')
    WHERE NOT EXISTS (SELECT 1 FROM given o WHERE o.track_key = tr.track)
), lines AS (
    SELECT a.track, l.id AS line_id, json_extract_string(l.value, '$.name') AS line,
        TRY_CAST(json_extract(l.value, '$.top') AS BIGINT) AS top_n,
        TRY_CAST(json_extract(l.value, '$.score') AS DOUBLE) AS given_score,
        TRY_CAST(json_extract(l.value, '$.band') AS DOUBLE) AS given_band
    FROM applies a, json_each(a.lines) l
), ranked AS (
    SELECT track, list(total ORDER BY total DESC) AS totals
    FROM staging.totals_ranked WHERE exam_id = getvariable('exam_id') AND status = 'ok'
    GROUP BY track
), scored AS (
    SELECT l.*, row_number() OVER (PARTITION BY l.track ORDER BY l.line_id) - 1 AS line_no,
        CASE WHEN l.top_n IS NOT NULL THEN 'top' ELSE 'score' END AS rule,
        CASE WHEN l.top_n IS NOT NULL THEN r.totals[least(l.top_n, len(r.totals))] ELSE l.given_score END AS line_score
    FROM lines l LEFT JOIN ranked r ON r.track = l.track
)
SELECT getvariable('exam_id') AS exam_id, s.track, s.line, s.line_no, s.rule,
    coalesce(CAST(s.top_n AS DOUBLE), s.given_score) AS rule_value, s.line_score,
    (SELECT count(*) FROM staging.totals_ranked t WHERE t.exam_id = getvariable('exam_id') AND t.track = s.track
        AND t.status = 'ok' AND t.total >= s.line_score - 1e-9) AS n_over,
    coalesce(s.given_band, cfg.borderline_band) AS band
FROM scored s, cfg
