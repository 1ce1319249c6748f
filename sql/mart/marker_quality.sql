-- mart.marker_quality (阅卷质量, rules.md §7): per marker × subject × item (the key outputs.md gives),
-- over the marks in force (staging.marks: the newest row of each exam number and item). In online
-- marking a marker of an item is 一评 on some scripts and 二评 on others as the system hands them out,
-- so a marker's quality is taken over every mark the marker gave on the item, whatever the role.
-- role: the role of most of those marks — first (一评), second (二评) or arbitration (仲裁); on a tie
-- the earlier of the three.
-- n_marked (numeric marks given), mean and population sd of them; n_overruled: of those marks, how
-- many an arbitration replaced (an arbitration mark is final: never).
-- A first or second mark compares with the other marker's: n_double counts the marks on scripts
-- that carry both marks; disagreement_rate, the share of them with |score1 − score2| > the item's
-- tolerance (arbitrated or not); mean_abs_diff, the mean |own mark − the other marker's| over them.
-- An arbitration mark compares with the nearer of the first two marks: it counts in n_double when
-- the script has a first or second mark, disagrees when beyond the tolerance of both (the arbitrator
-- agreed with neither), and its distance is the one to the nearer mark.
-- marker_name: the teacher of teachers.csv whose id it is.
WITH m AS (
    SELECT * FROM staging.marks WHERE exam_id = getvariable('exam_id')
), given AS (
    SELECT subject, item, exam_no, 'first' AS role, marker1 AS marker, s1 AS score, abs(s1 - s2) AS diff, tolerance,
        arbitrated AS overruled
    FROM m WHERE marker1 IS NOT NULL
    UNION ALL
    SELECT subject, item, exam_no, 'second', marker2, s2, abs(s2 - s1), tolerance, arbitrated FROM m WHERE marker2 IS NOT NULL
    UNION ALL
    SELECT subject, item, exam_no, 'arbitration', arbiter, sa, least(abs(sa - s1), abs(sa - s2)), tolerance, false
    FROM m WHERE arbiter IS NOT NULL
), names AS (
    SELECT teacher_id, arg_min(teacher_name, source_row) AS teacher_name
    FROM staging.teacher_roles WHERE exam_id = getvariable('exam_id') AND teacher_name IS NOT NULL GROUP BY ALL
)
SELECT getvariable('exam_id') AS exam_id, g.marker, n.teacher_name AS marker_name, g.subject, g.item,
    CASE
        WHEN count(*) FILTER (WHERE g.role = 'first') >= greatest(count(*) FILTER (WHERE g.role = 'second'),
                                                                 count(*) FILTER (WHERE g.role = 'arbitration'))
            THEN 'first'
        WHEN count(*) FILTER (WHERE g.role = 'second') >= count(*) FILTER (WHERE g.role = 'arbitration') THEN 'second'
        ELSE 'arbitration'
    END AS role,
    count(g.score) AS n_marked,
    list_avg(list(g.score ORDER BY g.exam_no, g.score)) AS mean,
    list_aggregate(list(g.score ORDER BY g.exam_no, g.score), 'stddev_pop') AS sd,
    count(g.diff) AS n_double,
    count(*) FILTER (WHERE g.diff > g.tolerance) / nullif(count(g.diff), 0) AS disagreement_rate,
    list_avg(list(g.diff ORDER BY g.exam_no, g.score, g.diff)) AS mean_abs_diff,
    count(*) FILTER (WHERE g.score IS NOT NULL AND g.overruled) AS n_overruled
FROM given g LEFT JOIN names n ON n.teacher_id = g.marker
GROUP BY g.marker, n.teacher_name, g.subject, g.item
