-- mart.school_quant (学校量化, rules.md §11): class_quant's figures (§6, the same rule: staging.unit_stats)
-- over each school's students instead of a class's, per school × subject × cohort track and per
-- school × total × track, against the joint cohort (school = '*', whose figures every row also
-- carries as cohort_*); rank_by_mean ranks the schools. Joint exams only: no rows otherwise.
SELECT exam_id, unit_id AS school, * EXCLUDE (exam_id, unit, unit_id)
FROM unit_quant WHERE unit IN ('school', 'cohort') 
    AND EXISTS (SELECT 1 FROM staging.students WHERE exam_id = getvariable('exam_id') AND joint)
