-- Settlements of abnormal scripts, append-only files of resolutions/.
CREATE TABLE IF NOT EXISTS raw.resolutions (
  exam_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, file_sha256 VARCHAR, ingested_at TIMESTAMP,
  abnormal_id VARCHAR, action VARCHAR, value VARCHAR, operator VARCHAR, "at" VARCHAR, note VARCHAR
);
