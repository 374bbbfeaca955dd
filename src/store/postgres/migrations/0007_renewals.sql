-- 0007: renewals (as SQLite's 0007). X holds a member only until its expires_at, 13 months after
-- the Update by default, so Tailor records when X last confirmed each hash and sends it again, as
-- an Update, before that runs out (docs/architecture.md, "Renewals").
ALTER TABLE x_members ADD COLUMN confirmed_at bigint;
-- Rows confirmed before this migration: the downstream audience's creation is a safe stand-in for
-- the unrecorded confirmation (nothing was confirmed on its X audience before it existed), so no
-- renewal comes late; the migration's time would be unsafe (a hash confirmed a year ago would
-- expire on X long before its renewal).
UPDATE x_members x SET confirmed_at = d.created_at FROM downstreams d WHERE d.id = x.downstream_id AND x.confirmed;
UPDATE x_members SET confirmed_at = 0 WHERE confirmed AND confirmed_at IS NULL;
-- The renewal step reads the oldest confirmations of one downstream audience: one seek.
CREATE INDEX x_members_by_confirmed_at ON x_members (downstream_id, confirmed_at) WHERE confirmed;
-- renewed: hashes re-sent before their expiry (the status shows it). renew_claimed_at: when the
-- last renewal step ran, so that renewals are spread (one step per flush interval, claim.ts).
ALTER TABLE downstreams ADD COLUMN renewed bigint NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN renew_claimed_at bigint NOT NULL DEFAULT 0;
