-- Small helpers every model may use; created per connection before the models run.
-- rules.md: rounding is half up; a mark is a multiple of 0.5 in [0, full].
CREATE OR REPLACE TEMP MACRO round_half_up(x) AS floor(x + 0.5 + 1e-9);
CREATE OR REPLACE TEMP MACRO bad_mark(txt, val, full_marks) AS
    txt IS NOT NULL AND (val IS NULL OR val < 0 OR val > full_marks OR val * 2 <> round(val * 2));
-- an answer as a set of option letters (case and order ignored, separators dropped); '' = blank
CREATE OR REPLACE TEMP MACRO answer_letters(v) AS
    array_to_string(list_sort(list_distinct(string_split(regexp_replace(upper(coalesce(nullif(trim(v), '-'), '')), '[\s,，、;]', '', 'g'), ''))), '');
