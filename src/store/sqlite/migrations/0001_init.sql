-- 0001: the whole first schema. Frozen once landed: change the schema with a new numbered file.
-- Times are epoch milliseconds. Hashes are lower-case hex SHA-256; raw identifiers never reach disk.

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE configurations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  account_id TEXT NOT NULL UNIQUE,       -- one configuration per X ad account: mParticle's accountId selects it
  account_name TEXT,
  x_user_id TEXT,
  screen_name TEXT,
  tokens TEXT NOT NULL,                  -- AES-256-GCM sealed OAuth tokens
  state TEXT NOT NULL DEFAULT 'active',  -- active | needs_reauth
  state_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE audiences (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE connections (
  audience_id TEXT NOT NULL REFERENCES audiences(id) ON DELETE CASCADE,
  configuration_id TEXT NOT NULL REFERENCES configurations(id),
  forward_emails INTEGER NOT NULL,
  forward_handles INTEGER NOT NULL,
  forward_device_ids INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (audience_id, configuration_id)
);

-- One X custom audience per (audience, configuration, identity type). Rows outlive their
-- connection (detached) and their audience (deleting), until X has deleted them.
CREATE TABLE downstreams (
  id INTEGER PRIMARY KEY,
  audience_id TEXT NOT NULL,
  configuration_id TEXT NOT NULL REFERENCES configurations(id),
  identity_type TEXT NOT NULL,           -- email | handle | device_id
  state TEXT NOT NULL,                   -- creating | active | detached | recreating | deleting
  x_audience_id TEXT,
  x_name TEXT,
  name_suffix INTEGER NOT NULL DEFAULT 1,
  create_attempt_name TEXT,              -- written before POST create, so a crash can find the audience again
  sent_adds INTEGER NOT NULL DEFAULT 0,
  sent_removes INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  members INTEGER NOT NULL DEFAULT 0,    -- confirmed rows in x_members, kept in step by claim and settle
  audience_size INTEGER,
  targetable INTEGER,
  reasons_not_targetable TEXT,           -- JSON array
  last_synced_at INTEGER,
  last_error TEXT,
  last_error_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  refreshed_at INTEGER,
  last_claimed_at INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_token TEXT,
  lease_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- A re-created audience may connect again while its old X audiences are still being deleted.
CREATE UNIQUE INDEX downstreams_live ON downstreams (audience_id, configuration_id, identity_type) WHERE state <> 'deleting';

-- The audience ledger: which member holds which hash. A hash stays on X while any member holds it.
CREATE TABLE members (
  audience_id TEXT NOT NULL,
  identity_type TEXT NOT NULL,
  hash TEXT NOT NULL,
  member_key TEXT NOT NULL,
  PRIMARY KEY (audience_id, identity_type, hash, member_key)
) WITHOUT ROWID;
CREATE INDEX members_by_member ON members (audience_id, member_key);

-- The X ledger: which hashes each downstream audience holds on X. confirmed = 1: X acknowledged
-- it. confirmed = 0: uncertain, because a batch touching it went out and its answer was never
-- settled (a crash, a dropped connection). An uncertain hash is never assumed present or absent:
-- adds and removes of it are always sent, so no crash can make Tailor skip a needed change.
CREATE TABLE x_members (
  downstream_id INTEGER NOT NULL,
  hash TEXT NOT NULL,
  confirmed INTEGER NOT NULL,
  PRIMARY KEY (downstream_id, hash)
) WITHOUT ROWID;

-- The outbox: one row per (downstream, hash) so the last state wins (coalescing by key).
-- claim_token marks the rows of an in-flight batch; a newer change resets it, so settling the
-- batch leaves that newer change pending and it is sent after, never lost or reordered.
CREATE TABLE outbox (
  downstream_id INTEGER NOT NULL,
  hash TEXT NOT NULL,
  op TEXT NOT NULL,                      -- add | remove
  enqueued_at INTEGER NOT NULL,
  claim_token TEXT,
  PRIMARY KEY (downstream_id, hash)
) WITHOUT ROWID;
CREATE INDEX outbox_by_age ON outbox (downstream_id, enqueued_at);

-- Identifiers dropped at ingest, counted by reason (never the value).
CREATE TABLE rejections (
  audience_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  count INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (audience_id, reason)
);

-- Token buckets for X's request rates, shared by every worker on this database.
CREATE TABLE rate_buckets (
  key TEXT PRIMARY KEY,
  tokens REAL NOT NULL,
  updated_at INTEGER NOT NULL
);
