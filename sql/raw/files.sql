-- Every file ingested for an exam, with its kind (the header it was recognised by) and row count.
CREATE TABLE IF NOT EXISTS raw.files (
  exam_id VARCHAR NOT NULL, source_file VARCHAR, kind VARCHAR, rows BIGINT, file_sha256 VARCHAR,
  ingested_at TIMESTAMP
);
