-- teachers.csv|xlsx as read.
CREATE TABLE IF NOT EXISTS raw.teachers (
  exam_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, file_sha256 VARCHAR, ingested_at TIMESTAMP,
  teacher_id VARCHAR, name VARCHAR, class VARCHAR, subject VARCHAR, role VARCHAR, extra JSON
);
