-- audit.fallback_copied: how much of each audit log's JSONL fallback file (written while a run held
-- the warehouse) has been copied into its table, so a new process reads only the rest instead of the
-- whole file (examflow/audit.py). Insert-only like the logs: a file's offset is its largest `bytes`.
CREATE TABLE IF NOT EXISTS audit.fallback_copied (file VARCHAR NOT NULL, "bytes" BIGINT NOT NULL, "at" TIMESTAMP NOT NULL);
