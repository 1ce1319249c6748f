-- audit.extracts: one row per extract and printout written (rules.md §9); append-only.
CREATE TABLE IF NOT EXISTS audit.extracts (
  "at" TIMESTAMP NOT NULL, who VARCHAR NOT NULL, template VARCHAR NOT NULL, params JSON, "rows" BIGINT,
  file VARCHAR, sha256 VARCHAR, exam_id VARCHAR, outcome VARCHAR DEFAULT 'written', reason VARCHAR
);
