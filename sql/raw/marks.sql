-- Every mark of the marking exports, long form as read, wide form one row per script and item.
CREATE TABLE IF NOT EXISTS raw.marks (
  exam_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, file_sha256 VARCHAR, ingested_at TIMESTAMP,
  subject VARCHAR, shape VARCHAR, exam_no VARCHAR, item VARCHAR, score1 VARCHAR, marker1 VARCHAR,
  score2 VARCHAR, marker2 VARCHAR, arbitration VARCHAR, arbiter VARCHAR, flag VARCHAR, extra JSON
);
