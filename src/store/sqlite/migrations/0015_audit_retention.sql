-- 0015: the audit log, and the index the retention of X's data prunes by.
--
-- audit_log is append-only: who changed which configuration, audience, connection, suppression or
-- erasure, and when. Object ids only, never a raw identity. The triggers refuse UPDATE and DELETE,
-- so no code path (nor a mistake) can rewrite the record.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,            -- admin_token | ui_session | firehose | cli
  action TEXT NOT NULL,           -- e.g. audience.created
  object_type TEXT NOT NULL,      -- configuration | audience | connection | suppression | erasure
  object_id TEXT,
  audience_id TEXT,
  configuration_id TEXT,
  details TEXT                    -- JSON: counts, toggles; never an identity
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- TAILOR_X_DATA_RETENTION_DAYS: samples older than the limit are deleted by time.
CREATE INDEX samples_by_time ON samples (at);
