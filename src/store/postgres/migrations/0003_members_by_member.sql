-- 0003: the audience ledger keyed by member first. Every by-hash question (is a hash held, by how
-- many, which hashes a type has) is answered by hash_holders; `members` is only ever read and
-- written per member, so one index (its primary key) serves it and the second index goes.
ALTER TABLE members DROP CONSTRAINT members_pkey;
ALTER TABLE members ADD PRIMARY KEY (audience_id, member_key, identity_type, hash);
DROP INDEX members_by_member;
