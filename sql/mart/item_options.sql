-- mart.item_options (rules.md §8): per objective item, the share of its `ok` scripts (where it
-- counted) that chose each option: every letter of the item's options (also those nobody chose),
-- `blank`, and `invalid` (unreadable, a letter outside the options, several letters on a single
-- item); for a numeric item each value read. On a multi item a script counts for every letter it
-- marked, so letter shares add up to more than 1 there. is_key: the option is (part of) the key;
-- NULL for items with paper versions (AB卷), whose shares pool the versions.
WITH reads AS (
    -- one pass over the item rows, down to each item's distinct reads and how many scripts made them
    SELECT subject, item, type, read_status, letters, count(*) AS n
    FROM item_results WHERE type <> 'subjective' GROUP BY ALL
), items AS (
    SELECT i.subject, i.item, i.type, i.position, i.key, i.keys IS NOT NULL AS versioned, coalesce(i.options, 4) AS options,
        coalesce((SELECT CAST(sum(r.n) AS BIGINT) FROM reads r WHERE r.subject = i.subject AND r.item = i.item), 0) AS n
    FROM raw.items i WHERE i.exam_id = getvariable('exam_id') AND i.type <> 'subjective'
), chosen AS (
    SELECT subject, item, n, CASE WHEN read_status = 'blank' THEN 'blank'
                                  WHEN read_status IN ('invalid', 'multi') THEN 'invalid'
                                  ELSE unnest(CASE WHEN type = 'multi' THEN string_split(letters, '') ELSE [letters] END)
                             END AS option
    FROM reads
), counts AS (
    SELECT subject, item, option, CAST(sum(n) AS BIGINT) AS n_chose FROM chosen GROUP BY ALL
), options AS (
    -- every letter of a letter item, blank and invalid for every item, and the values read
    SELECT subject, item, chr(CAST(65 + l AS INTEGER)) AS option, l AS option_order FROM items, range(options) t(l) WHERE type <> 'numeric'
    UNION ALL SELECT subject, item, 'blank', 100 FROM items
    UNION ALL SELECT subject, item, 'invalid', 101 FROM items
    UNION ALL
    SELECT c.subject, c.item, c.option, 50 FROM counts c JOIN items i ON i.subject = c.subject AND i.item = c.item
    WHERE i.type = 'numeric' AND c.option NOT IN ('blank', 'invalid')
)
SELECT getvariable('exam_id') AS exam_id, o.subject, o.item, o.option, i.type, i.position, o.option_order,
    coalesce(c.n_chose, 0) AS n_chose, i.n,
    CASE WHEN i.n > 0 THEN coalesce(c.n_chose, 0) / i.n END AS share,
    CASE WHEN i.versioned THEN NULL
         WHEN o.option IN ('blank', 'invalid') THEN false
         WHEN i.type = 'numeric' THEN TRY_CAST(o.option AS HUGEINT) = TRY_CAST(i.key AS HUGEINT)
         ELSE contains(upper(coalesce(i.key, '')), o.option) END AS is_key
FROM options o
JOIN items i ON i.subject = o.subject AND i.item = o.item
LEFT JOIN counts c ON c.subject = o.subject AND c.item = o.item AND c.option = o.option
