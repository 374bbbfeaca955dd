-- 0010: opt-outs and erasures (docs/privacy.md). Hashes only (32 bytes, as 0009 stores them): never a raw identity,
-- never a member key.
--
-- suppressions: the global suppression list. A suppressed (type, hash) is removed from every X
-- audience that holds it and never sent to X again while it is listed (ingest drops adds of it,
-- claims turn a pending add of it into a remove or drop it). settled_at: when no X audience held it
-- any more (X acknowledged every removal); NULL while removals are outstanding (the 24-hour clock).
CREATE TABLE suppressions (
  identity_type TEXT NOT NULL,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  settled_at INTEGER,
  PRIMARY KEY (identity_type, hash)
) WITHOUT ROWID;
CREATE INDEX suppressions_unsettled ON suppressions (created_at) WHERE settled_at IS NULL;

-- erasures: one per data-subject request. request_key makes a request idempotent: a digest of the
-- request's hashes and keyed member digests (REST), or mParticle's subject_request_id (Firehose).
-- state: pending until X acknowledged the removal of every hash found, then done.
CREATE TABLE erasures (
  id TEXT PRIMARY KEY,
  request_key TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,                  -- api | firehose
  state TEXT NOT NULL,                   -- pending | done
  received_at INTEGER NOT NULL,
  completed_at INTEGER,
  members_erased INTEGER NOT NULL,
  x_audiences INTEGER NOT NULL           -- X audiences that held one of the hashes when it was recorded
);
CREATE INDEX erasures_pending ON erasures (received_at) WHERE state = 'pending';

-- The hashes an erasure found (and suppressed): it is done when every one of them is settled.
CREATE TABLE erasure_hashes (
  erasure_id TEXT NOT NULL REFERENCES erasures(id) ON DELETE CASCADE,
  identity_type TEXT NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (erasure_id, identity_type, hash)
) WITHOUT ROWID;
