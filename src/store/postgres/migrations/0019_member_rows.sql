-- 0019: the audience ledger as one row per member (issue 13, storage and ingest). Until 0018,
-- `members` had one row per (audience, member key, identity type, hash), an index by hash
-- (members_by_hash, 0010) and a companion `audience_members` row per member for its row lock:
-- the member key in five places and the hash in three for each identity, each row with its
-- 24-byte header. Now `members` is (audience, member key) -> identities: the member's identities
-- in one bytea, 33 bytes each (the type's byte, then the hash; src/store/binary.ts), ordered by
-- type name and hash. Its row is the member's lock (ledger.ts), so audience_members goes;
-- hash_holders (the holder counts) stays as it is. A stored identity type not known to binary.ts
-- makes decode() raise, which rolls the whole migration back, leaving the database as 0018 left it.

CREATE TABLE members_0019 (
  audience_id text COLLATE "C" NOT NULL,
  member_key bytea NOT NULL,
  identities bytea NOT NULL,
  PRIMARY KEY (audience_id, member_key)
);
INSERT INTO members_0019 (audience_id, member_key, identities)
SELECT audience_id, member_key,
       string_agg(CASE identity_type WHEN 'email' THEN '\x01'::bytea WHEN 'handle' THEN '\x02'::bytea WHEN 'device_id' THEN '\x03'::bytea
                                     WHEN 'phone_number' THEN '\x04'::bytea ELSE decode(identity_type, 'hex') END
                  || CASE WHEN length(hash) = 32 THEN hash ELSE decode(identity_type, 'hex') END,
                  ''::bytea ORDER BY identity_type COLLATE "C", hash)
  FROM members
 GROUP BY audience_id, member_key
 ORDER BY audience_id, member_key;

DROP TABLE members;
DROP TABLE audience_members;
ALTER TABLE members_0019 RENAME TO members;
ALTER INDEX members_0019_pkey RENAME TO members_pkey;
