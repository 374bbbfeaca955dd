-- 0009: hashes as 32-byte BLOBs and member keys as 33-byte BLOBs (src/store/binary.ts: one byte for
-- the key's kind, then its digest), instead of 64 and 69 hex characters in every row and index
-- entry. The port still speaks hex; the adapter converts at its boundary. Each table is rebuilt
-- in its key order (one sorted pass) and renamed; its indexes are built after the rows.
-- A stored hash that is not 64 hex characters becomes NULL and fails NOT NULL, so the whole
-- migration rolls back, leaving the database as 0008 left it. A member key not of the form
-- `<kind>:<64 hex>` is kept as a 0 byte and its UTF-8 text, as binary.ts writes it.

CREATE TABLE members_0009 (
  audience_id TEXT NOT NULL,
  identity_type TEXT NOT NULL,
  hash BLOB NOT NULL,
  member_key BLOB NOT NULL,
  PRIMARY KEY (audience_id, identity_type, hash, member_key)
) WITHOUT ROWID;
INSERT INTO members_0009 (audience_id, identity_type, hash, member_key)
SELECT audience_id, identity_type, CASE WHEN length(hash) = 64 THEN unhex(hash) END,
       -- (|| makes TEXT even of two BLOBs: the bytes are built as hex and unhexed once.)
       unhex(COALESCE(
         CASE WHEN length(member_key) - instr(member_key, ':') = 64 THEN
           CASE substr(member_key, 1, instr(member_key, ':') - 1)
             WHEN 'user' THEN '01' WHEN 'mpid' THEN '02' WHEN 'email' THEN '03' WHEN 'handle' THEN '04' WHEN 'device_id' THEN '05'
           END || CASE WHEN substr(member_key, instr(member_key, ':') + 1) NOT GLOB '*[^0-9a-f]*' THEN substr(member_key, instr(member_key, ':') + 1) END
         END,
         '00' || hex(member_key)))
  FROM members
 ORDER BY 1, 2, 3, 4;
DROP TABLE members;
ALTER TABLE members_0009 RENAME TO members;
CREATE INDEX members_by_member ON members (audience_id, member_key);

CREATE TABLE x_members_0009 (
  downstream_id INTEGER NOT NULL,
  hash BLOB NOT NULL,
  confirmed INTEGER NOT NULL,
  confirmed_at INTEGER,
  PRIMARY KEY (downstream_id, hash)
) WITHOUT ROWID;
INSERT INTO x_members_0009 (downstream_id, hash, confirmed, confirmed_at)
SELECT downstream_id, CASE WHEN length(hash) = 64 THEN unhex(hash) END, confirmed, confirmed_at FROM x_members ORDER BY downstream_id, hash;
DROP TABLE x_members;
ALTER TABLE x_members_0009 RENAME TO x_members;
CREATE INDEX x_members_by_confirmed_at ON x_members (downstream_id, confirmed_at) WHERE confirmed = 1;

CREATE TABLE outbox_0009 (
  downstream_id INTEGER NOT NULL,
  hash BLOB NOT NULL,
  op TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  claim_token TEXT,
  PRIMARY KEY (downstream_id, hash)
) WITHOUT ROWID;
INSERT INTO outbox_0009 (downstream_id, hash, op, enqueued_at, claim_token)
SELECT downstream_id, CASE WHEN length(hash) = 64 THEN unhex(hash) END, op, enqueued_at, claim_token FROM outbox ORDER BY downstream_id, hash;
DROP TABLE outbox;
ALTER TABLE outbox_0009 RENAME TO outbox;
CREATE INDEX outbox_by_age ON outbox (downstream_id, enqueued_at);

-- The old tables' pages are free now but still in the file: open.ts VACUUMs once this commits, so
-- the file shrinks to the new layout.
INSERT INTO meta (key, value) VALUES ('vacuum_requested_by', '0009') ON CONFLICT (key) DO NOTHING;
