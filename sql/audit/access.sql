-- audit.access: the teacher portal's log (rules.md §12, outputs.md); append-only. One row per page
-- showing student rows (outcome shown), per download (downloaded), per refusal (refused: outside the
-- scope, not found, a bad parameter, a forged or expired session), per failed login (login_failed)
-- and per login refused because the account is locked (locked). who: the account (a teacher id, or
-- office:NAME; the name typed for an unknown account); what: the page or file; params: the request's
-- parameters (JSON); rows: student rows shown; client: the remote address; reason: why refused.
CREATE TABLE IF NOT EXISTS audit.access (
  "at" TIMESTAMP NOT NULL, who VARCHAR NOT NULL, what VARCHAR NOT NULL, params JSON, outcome VARCHAR NOT NULL,
  exam_id VARCHAR, "rows" BIGINT, client VARCHAR, reason VARCHAR
);
