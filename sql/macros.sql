-- Small helpers every model may use; created per connection before the models run.
-- rules.md: rounding is half up; a mark is a multiple of 0.5 in [0, full].
CREATE OR REPLACE TEMP MACRO round_half_up(x) AS floor(x + 0.5 + 1e-9);
CREATE OR REPLACE TEMP MACRO bad_mark(txt, val, full_marks) AS
    txt IS NOT NULL AND (val IS NULL OR val < 0 OR val > full_marks OR val * 2 <> round(val * 2));
-- exact(x): a score as a fixed-point decimal. Sums of them are exact, so a statistic is the same bits
-- whatever order the threads add rows in (a re-run must give identical figures), with no sort;
-- 1e-12 is far below anything printed.
CREATE OR REPLACE TEMP MACRO exact(x) AS CAST(x AS DECIMAL(38, 12));
-- weighted_mean(x, w, k1, k2): the w-weighted mean of x over a group, its float sum taken in (k1, k2)
-- order so that a re-run gives the same bits; weighted_mean_of_known weighs only the rows where x is
-- known (a ratio or a value added some classes lack).
CREATE OR REPLACE TEMP MACRO weighted_mean(x, w, k1, k2) AS list_sum(list(w * x ORDER BY k1, k2)) / nullif(sum(w), 0);
CREATE OR REPLACE TEMP MACRO weighted_mean_of_known(x, w, k1, k2) AS
    list_sum(list(w * x ORDER BY k1, k2)) / nullif(sum(w) FILTER (WHERE x IS NOT NULL), 0);
-- class_id (outputs.md): the class number as text ("3" for 3班 / 高三(3)班), prefixed by the school
-- in joint exams (一中:3; callers pass school NULL otherwise); a class name without a digit is kept
-- as written. Roster and teachers alike.
CREATE OR REPLACE TEMP MACRO class_id(school, class_text) AS
    CASE WHEN nullif(trim(school), '') IS NOT NULL THEN trim(school) || ':' ELSE '' END
    || CASE WHEN regexp_matches(class_text, '\d')
            THEN CAST(CAST(regexp_extract(class_text, '(\d+)\D*$', 1) AS BIGINT) AS VARCHAR)
            ELSE trim(class_text) END;
-- setting(settings, path): a setting of exam.yaml (raw.exams.settings, JSON), or its default from
-- examflow.config.DEFAULTS (the `setting_defaults` variable) when it is absent or null.
CREATE OR REPLACE TEMP MACRO setting(settings, path) AS
    CASE WHEN coalesce(json_type(json_extract(settings, path)), 'NULL') = 'NULL'
         THEN json_extract(getvariable('setting_defaults'), path) ELSE json_extract(settings, path) END;
-- Who sits which subject (staging.expected; arrangement seats the same students): core subjects
-- everyone; a first-choice subject the students of its track (a subject coded or named 物理/历史),
-- and students of no track whose electives name it; a reselect subject those whose electives name
-- it. When the roster carries no electives at all (`electives_unused`), everyone sits everything
-- their track allows.
CREATE OR REPLACE TEMP MACRO subject_track(subject, subject_name) AS
    CASE WHEN subject = 'physics' OR subject_name LIKE '物理%' THEN 'physics'
         WHEN subject = 'history' OR subject_name LIKE '历史%' THEN 'history' END;
CREATE OR REPLACE TEMP MACRO sits(role, subject, subject_name, track, electives, electives_unused) AS
    role = 'core'
    OR (role = 'first_choice' AND (track = subject_track(subject, subject_name)
        OR (track = 'all' AND (electives_unused OR list_contains(electives, subject)))))
    OR (role = 'reselect' AND (electives_unused OR list_contains(electives, subject)));
-- an answer as a set of option letters (case and order ignored, separators dropped); '' = blank.
-- One character, the common case, skips the splitting.
CREATE OR REPLACE TEMP MACRO answer_letters(v) AS
    CASE WHEN v IS NULL OR trim(v) IN ('', '-') THEN ''
         WHEN length(trim(v)) = 1 THEN upper(trim(v))
         ELSE array_to_string(list_sort(list_distinct(string_split(
                  regexp_replace(upper(trim(v)), '[\s,，、;]', '', 'g'), ''))), '') END;
-- what a scanned sheet says, as one comparable text: two copies of a script are identical when
-- their answers (letters as sets), optional choice and absent mark agree
CREATE OR REPLACE TEMP MACRO answers_key(responses, optional_choice, absent_mark) AS
    array_to_string(list_sort([e.key || '=' || CASE WHEN regexp_matches(e.value, '^[A-Za-z,\s]+$')
                                                    THEN answer_letters(e.value)
                                                    ELSE coalesce(nullif(upper(trim(e.value)), '-'), '') END
                               FOR e IN map_entries(responses)]), ';')
    || '|' || coalesce(nullif(trim(optional_choice), ''), '') || '|' || absent_mark;
-- Masking (rules.md §9): id_card and phone never leave the warehouse unmasked. Every query that
-- exposes them outside the warehouse (sql/extracts/) selects mask_id_card(...) / mask_phone(...).
-- id_card keeps its first 6 and last 4 characters (410728********1234), phone its first 3 and last 4
-- digits (138****5678); spaces and dashes are dropped first ("138-1234-5678"), a "+86"/"86" prefix
-- of a mobile number too. A value too short to keep those parts while hiding anything is masked
-- whole; empty → NULL.
CREATE OR REPLACE TEMP MACRO mask_id_card(v) AS
    CASE WHEN nullif(regexp_replace(CAST(v AS VARCHAR), '[\s-]', '', 'g'), '') IS NULL THEN NULL
         WHEN length(regexp_replace(CAST(v AS VARCHAR), '[\s-]', '', 'g')) <= 10
              THEN repeat('*', length(regexp_replace(CAST(v AS VARCHAR), '[\s-]', '', 'g')))
         ELSE left(regexp_replace(CAST(v AS VARCHAR), '[\s-]', '', 'g'), 6)
              || repeat('*', length(regexp_replace(CAST(v AS VARCHAR), '[\s-]', '', 'g')) - 10)
              || right(regexp_replace(CAST(v AS VARCHAR), '[\s-]', '', 'g'), 4) END;
CREATE OR REPLACE TEMP MACRO phone_digits(v) AS
    regexp_replace(regexp_replace(CAST(v AS VARCHAR), '[\s()（）-]', '', 'g'), '^(\+?86)(1\d{10})$', '\2');
CREATE OR REPLACE TEMP MACRO mask_phone(v) AS
    CASE WHEN nullif(phone_digits(v), '') IS NULL THEN NULL
         WHEN length(phone_digits(v)) <= 7 THEN repeat('*', length(phone_digits(v)))
         ELSE left(phone_digits(v), 3) || repeat('*', length(phone_digits(v)) - 7) || right(phone_digits(v), 4) END;
-- the keys of an AB-versioned item (raw.items.keys, JSON {version: key}) as a list of {key: version,
-- value: that version's answer key}
CREATE OR REPLACE TEMP MACRO version_keys(keys) AS map_entries(CAST(keys AS MAP(VARCHAR, VARCHAR)));
