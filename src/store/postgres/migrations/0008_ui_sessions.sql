-- 0008: web UI sessions live in the database, so that sign-out ends one on every process, and the
-- X login's steps are used once. Keys are keyed hashes (src/server/session.ts): a raw session id
-- or cookie value is never stored. Rows past expires_at are pruned on the next write.
CREATE TABLE ui_sessions (
  id_hash TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at);

CREATE TABLE single_use (
  key TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX single_use_expiry ON single_use (expires_at);
