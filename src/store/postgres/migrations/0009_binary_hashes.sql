-- 0009: hashes as 32-byte bytea and member keys as 33-byte bytea (src/store/binary.ts: one byte for
-- the key's kind, then its digest), instead of 64 and 69 hex characters in every row and index
-- entry. The port still speaks hex; the adapter converts at its boundary. Byte order is the order
-- of the hex under COLLATE "C", so the lock order of locks.ts is unchanged.
-- ALTER COLUMN ... TYPE rewrites each table and rebuilds its indexes in place, in this
-- transaction; decode() of a stored hash that is not hex raises and rolls the whole migration
-- back. A member key not of the form `<kind>:<64 hex>` is kept as a 0 byte and its UTF-8 text, as
-- binary.ts writes it.

ALTER TABLE members
  ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex'),
  ALTER COLUMN member_key TYPE bytea USING CASE WHEN member_key ~ '^(user|mpid|email|handle|device_id):[0-9a-f]{64}$' THEN decode(
    CASE split_part(member_key, ':', 1)
      WHEN 'user' THEN '01' WHEN 'mpid' THEN '02' WHEN 'email' THEN '03' WHEN 'handle' THEN '04' WHEN 'device_id' THEN '05'
    END || split_part(member_key, ':', 2), 'hex')
    ELSE '\x00'::bytea || convert_to(member_key, 'UTF8') END;

ALTER TABLE audience_members
  ALTER COLUMN member_key TYPE bytea USING CASE WHEN member_key ~ '^(user|mpid|email|handle|device_id):[0-9a-f]{64}$' THEN decode(
    CASE split_part(member_key, ':', 1)
      WHEN 'user' THEN '01' WHEN 'mpid' THEN '02' WHEN 'email' THEN '03' WHEN 'handle' THEN '04' WHEN 'device_id' THEN '05'
    END || split_part(member_key, ':', 2), 'hex')
    ELSE '\x00'::bytea || convert_to(member_key, 'UTF8') END;

ALTER TABLE hash_holders ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex');
ALTER TABLE x_members ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex');
ALTER TABLE outbox ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex');

-- The outbox is a queue: every row is inserted, updated once or twice (claim_token, not indexed,
-- so HOT with room on the page) and deleted when settled. Vacuumed after a fixed number of dead
-- rows rather than a fraction of the table, so the space of settled rows is reused by the next
-- ones before the table grows (the default, 20% of the table, lets a drained outbox of millions
-- of rows wait). Room on each page keeps the claim's update on its page.
ALTER TABLE outbox SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
  autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000, autovacuum_vacuum_cost_delay = 0);

-- The X ledger: a claimed add writes an uncertain row and its settle a second version, so X
-- ledger pages are vacuumed as often, and their free space reused by the next batches.
ALTER TABLE x_members SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000, autovacuum_vacuum_cost_delay = 0);
