-- Every scanned sheet of every scan export: the scanner's wide files and OMRChecker's results,
-- error and multi-marked files (shape). responses: item id -> what was read (NULL = blank).
CREATE TABLE IF NOT EXISTS raw.scans (
  exam_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, file_sha256 VARCHAR, ingested_at TIMESTAMP,
  subject VARCHAR, shape VARCHAR, exam_no VARCHAR, script_id VARCHAR, absent VARCHAR, batch VARCHAR,
  pages VARCHAR, optional_choice VARCHAR, paper_version VARCHAR, image VARCHAR,
  responses MAP(VARCHAR, VARCHAR), extra JSON
);
