-- mart.item_options (rules.md §8): per objective item, the share of its `ok` scripts (where it
-- counted) that chose each option: every letter of the item's options (also those nobody chose),
-- `blank`, and `invalid` (unreadable, a letter outside the options, several letters on a single
-- item); for a numeric item each value read. Each script counts once in `blank` or `invalid` and
-- then in no letter; on a multi item a valid answer counts for every letter it marked, so letter
-- shares add up to more than 1 there. paper_version '*' pools every script; an item with paper
-- versions (AB卷) also gets the rows of each version of its key over the scripts of that version.
-- is_key: the option is (part of) the row's key; NULL on the pooled rows of an item with versions.
WITH reads AS (
    -- one pass over the item rows, down to each item's distinct reads and how many scripts made them
    SELECT subject, item, type, paper_version, read_status, letters, count(*) AS n
    FROM item_results WHERE type <> 'subjective' GROUP BY ALL
), chosen AS (
    -- the options a read counts for, as a list unnested after it is built (DuckDB evaluates an unnest
    -- before a CASE around it: a NULL list would drop a blank, a list of letters repeat an invalid)
    SELECT subject, item, paper_version, n,
        unnest(CASE WHEN read_status = 'blank' THEN ['blank']
                    WHEN read_status IN ('invalid', 'multi') THEN ['invalid']
                    WHEN type = 'multi' THEN string_split(letters, '')
                    ELSE [letters] END) AS option
    FROM reads
), counts AS (
    -- per version and pooled ('*') in one pass; reads of unversioned items have no version
    SELECT subject, item, CASE WHEN grouping(paper_version) = 1 THEN '*' ELSE paper_version END AS paper_version,
        option, CAST(sum(n) AS BIGINT) AS n_chose
    FROM chosen
    GROUP BY GROUPING SETS ((subject, item, option), (subject, item, paper_version, option))
    HAVING grouping(paper_version) = 1 OR paper_version IS NOT NULL
), totals AS (
    SELECT subject, item, CASE WHEN grouping(paper_version) = 1 THEN '*' ELSE paper_version END AS paper_version,
        CAST(sum(n) AS BIGINT) AS n
    FROM reads
    GROUP BY GROUPING SETS ((subject, item), (subject, item, paper_version))
    HAVING grouping(paper_version) = 1 OR paper_version IS NOT NULL
), items AS (
    SELECT subject, item, type, position, key, keys, coalesce(options, 4) AS options
    FROM raw.items WHERE exam_id = getvariable('exam_id') AND type <> 'subjective'
), versions AS (
    -- the row sets of each item: pooled, and one per paper version of its key with that version's key
    SELECT subject, item, type, position, options, '*' AS paper_version, key AS answer_key, keys IS NOT NULL AS pooled_versions
    FROM items
    UNION ALL
    SELECT subject, item, type, position, options, e.key, e.value, false
    FROM (SELECT *, unnest(version_keys(keys)) AS e FROM items WHERE keys IS NOT NULL)
), options AS (
    -- every letter of a letter item, blank and invalid for every item, and the values read
    SELECT subject, item, paper_version, chr(CAST(65 + l AS INTEGER)) AS option, l AS option_order
    FROM versions, range(options) t(l) WHERE type <> 'numeric'
    UNION ALL SELECT subject, item, paper_version, 'blank', 100 FROM versions
    UNION ALL SELECT subject, item, paper_version, 'invalid', 101 FROM versions
    UNION ALL
    SELECT c.subject, c.item, c.paper_version, c.option, 50
    FROM counts c JOIN versions v ON v.subject = c.subject AND v.item = c.item AND v.paper_version = c.paper_version
    WHERE v.type = 'numeric' AND c.option NOT IN ('blank', 'invalid')
)
SELECT getvariable('exam_id') AS exam_id, o.subject, o.item, o.paper_version, o.option, v.type, v.position, o.option_order,
    coalesce(c.n_chose, 0) AS n_chose, coalesce(t.n, 0) AS n,
    CASE WHEN t.n > 0 THEN coalesce(c.n_chose, 0) / t.n END AS share,
    CASE WHEN v.pooled_versions THEN NULL
         WHEN o.option IN ('blank', 'invalid') THEN false
         WHEN v.type = 'numeric' THEN TRY_CAST(o.option AS HUGEINT) = TRY_CAST(v.answer_key AS HUGEINT)
         ELSE contains(upper(coalesce(v.answer_key, '')), o.option) END AS is_key
FROM options o
JOIN versions v ON v.subject = o.subject AND v.item = o.item AND v.paper_version = o.paper_version
LEFT JOIN totals t ON t.subject = o.subject AND t.item = o.item AND t.paper_version = o.paper_version
LEFT JOIN counts c ON c.subject = o.subject AND c.item = o.item AND c.paper_version = o.paper_version
    AND c.option = o.option
