-- Items inline in exam.yaml or from items.csv|xlsx (source_file tells which).
CREATE TABLE IF NOT EXISTS raw.items (
  exam_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, file_sha256 VARCHAR, ingested_at TIMESTAMP,
  subject VARCHAR NOT NULL, item VARCHAR NOT NULL, type VARCHAR, full_marks DOUBLE, position BIGINT,
  key VARCHAR, keys JSON, knowledge VARCHAR, tolerance DOUBLE, options BIGINT, partial VARCHAR,
  optional_group BIGINT
);
