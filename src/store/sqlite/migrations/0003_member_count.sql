-- 0003: a maintained member count per audience, so status pages need no COUNT(DISTINCT) over
-- millions of ledger rows on every poll. The ledger keeps it in step in the same transaction.
ALTER TABLE audiences ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE audiences SET member_count = (SELECT COUNT(DISTINCT member_key) FROM members m WHERE m.audience_id = audiences.id);
