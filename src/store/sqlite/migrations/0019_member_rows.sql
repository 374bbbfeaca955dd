-- 0019: the audience ledger as one row per member (issue 13, storage and ingest). Until 0018,
-- `members` had one row per (audience, identity type, hash, member key) and an index by
-- (audience, member key): every member key stored six times for three identities, every hash
-- twice. Now:
--   members       (audience, member key) -> identities: the member's identities in one BLOB, 33
--                 bytes each (the type's byte, then the hash; src/store/binary.ts), ordered by
--                 type name and hash. A member exists while it holds an identity.
--   hash_holders  (audience, identity type, hash) -> holders: how many members hold the hash, as
--                 PostgreSQL has kept it since 0001 (rows with zero are deleted). The ledger's
--                 transitions (0 -> n queues an add, n -> 0 a remove) and every "is it still held"
--                 read seek it.
-- Both are built from the old table in their key order and the old table is dropped. A stored
-- identity type not known to binary.ts, or a hash not of 32 bytes, makes unhex() return NULL,
-- which fails NOT NULL and rolls the whole migration back, leaving the database as 0018 left it.

CREATE TABLE members_0019 (
  audience_id TEXT NOT NULL,
  member_key BLOB NOT NULL,
  identities BLOB NOT NULL,
  PRIMARY KEY (audience_id, member_key)
) WITHOUT ROWID;
INSERT INTO members_0019 (audience_id, member_key, identities)
SELECT audience_id, member_key,
       unhex(group_concat(
         CASE identity_type WHEN 'email' THEN '01' WHEN 'handle' THEN '02' WHEN 'device_id' THEN '03' WHEN 'phone_number' THEN '04' ELSE 'zz' END
         || CASE WHEN length(hash) = 32 THEN hex(hash) ELSE 'zz' END, '' ORDER BY identity_type, hash))
  FROM members
 GROUP BY audience_id, member_key
 ORDER BY audience_id, member_key;

CREATE TABLE hash_holders (
  audience_id TEXT NOT NULL,
  identity_type TEXT NOT NULL,
  hash BLOB NOT NULL,
  holders INTEGER NOT NULL,
  PRIMARY KEY (audience_id, identity_type, hash)
) WITHOUT ROWID;
INSERT INTO hash_holders (audience_id, identity_type, hash, holders)
SELECT audience_id, identity_type, hash, COUNT(*) FROM members GROUP BY audience_id, identity_type, hash ORDER BY audience_id, identity_type, hash;

DROP TABLE members;
ALTER TABLE members_0019 RENAME TO members;

-- The old table's pages are free now but still in the file: open.ts VACUUMs once this commits.
INSERT INTO meta (key, value) VALUES ('vacuum_requested_by', '0019') ON CONFLICT (key) DO NOTHING;
