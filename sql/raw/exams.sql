-- One row per exam: exam.yaml as loaded (settings merged over school.yaml and the defaults).
CREATE TABLE IF NOT EXISTS raw.exams (
  exam_id VARCHAR PRIMARY KEY, name VARCHAR, date VARCHAR, grade VARCHAR, previous VARCHAR,
  folder VARCHAR, settings JSON, source_file VARCHAR, file_sha256 VARCHAR, ingested_at TIMESTAMP
);
