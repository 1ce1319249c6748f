-- rooms.csv|xlsx as read.
CREATE TABLE IF NOT EXISTS raw.rooms (
  exam_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, file_sha256 VARCHAR, ingested_at TIMESTAMP,
  room VARCHAR, location VARCHAR, capacity VARCHAR, extra JSON
);
