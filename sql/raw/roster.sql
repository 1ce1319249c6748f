-- roster.csv|xlsx as read; extra columns kept as JSON.
CREATE TABLE IF NOT EXISTS raw.roster (
  exam_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, file_sha256 VARCHAR, ingested_at TIMESTAMP,
  student_id VARCHAR, name VARCHAR, class VARCHAR, exam_no VARCHAR, track VARCHAR, electives VARCHAR,
  school VARCHAR, id_card VARCHAR, phone VARCHAR, extra JSON
);
