-- alias_of(kind, text): the canonical value of a value written in one of its ways (staging.aliases,
-- loaded from data_contracts/aliases.yaml: tracks, subjects, metrics, roles), NULL when none matches.
-- Created per connection after staging.aliases (apart from macros.sql, which needs no table).
CREATE OR REPLACE TEMP MACRO alias_of(k, t) AS (
    SELECT arg_min(a.value, a.priority) FROM staging.aliases a
    WHERE a.kind = k AND (a.alias = lower(trim(t)) OR (a.contains AND contains(lower(trim(t)), a.alias))));
