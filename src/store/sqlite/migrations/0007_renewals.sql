-- 0007: renewals. X holds a member only until its expires_at, 13 months after the Update by
-- default (docs/architecture.md, "Renewals"), so Tailor records when X last confirmed each hash
-- and sends it again, as an Update, before that runs out.
ALTER TABLE x_members ADD COLUMN confirmed_at INTEGER;
-- Rows confirmed before this migration: when X confirmed them was never recorded. The migration's
-- time would be unsafe (a hash confirmed a year ago would expire on X long before its renewal).
-- The downstream audience's creation is safe: nothing was confirmed on its X audience before it
-- existed, so the real confirmation is never earlier, and the renewal never comes late. It only
-- comes early for hashes confirmed later than that, which costs one extra Update each.
UPDATE x_members SET confirmed_at = COALESCE((SELECT d.created_at FROM downstreams d WHERE d.id = x_members.downstream_id), 0) WHERE confirmed = 1;
-- The renewal step reads the oldest confirmations of one downstream audience: one seek.
CREATE INDEX x_members_by_confirmed_at ON x_members (downstream_id, confirmed_at) WHERE confirmed = 1;
-- renewed: hashes re-sent before their expiry (the status shows it). renew_claimed_at: when the
-- last renewal step ran, so that renewals are spread (one step per flush interval, claim.ts).
ALTER TABLE downstreams ADD COLUMN renewed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN renew_claimed_at INTEGER NOT NULL DEFAULT 0;
