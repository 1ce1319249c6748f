-- The subjects of exam.yaml, in their order.
CREATE TABLE IF NOT EXISTS raw.subjects (
  exam_id VARCHAR NOT NULL, subject VARCHAR NOT NULL, name VARCHAR, full_marks DOUBLE, role VARCHAR, pages BIGINT,
  position BIGINT, uses_versions BOOLEAN, optional_groups JSON
);
