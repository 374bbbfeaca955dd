-- 0005: a maintained member count per audience (as SQLite's 0003), kept in step by the ledger in
-- the same transaction (ledger.ts), so status pages need not count audience_members on every poll.
-- The member keys are converted by this version's code step (0005_member_keys.ts) in the same
-- transaction; the conversion is one-to-one, so the count is the same before and after it.
ALTER TABLE audiences ADD COLUMN member_count bigint NOT NULL DEFAULT 0;
UPDATE audiences a SET member_count = (SELECT count(*) FROM audience_members m WHERE m.audience_id = a.id);
