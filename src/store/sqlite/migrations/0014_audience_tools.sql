-- 0014: audience tools (issue 18): the send cadence per connection, resyncs on demand, and the
-- campaign guard on deleting an X audience.
--   connections.send_interval_minutes  NULL: near real time (TAILOR_FLUSH_INTERVAL_MS); else each
--                                      X audience's adds and removes go at most once per interval
--   downstreams.send_interval_ms       the connection's cadence, copied to its X audiences so the
--                                      claim reads one row; NULL: near real time
--   downstreams.next_send_at           with a cadence: no batch of changes is claimed before then
--   downstreams.resync_before          a resync asked for: every hash X confirmed before then is
--                                      sent again as an Update; NULL when none is running
--   downstreams.resync_cursor          the resync goes in hash order: the last hash it sent, once
--                                      settled (a hash X refuses is passed, not resent at once)
--   downstreams.resync_total           X's members when the resync was asked for, and
--   downstreams.resync_sent            how many it has sent again: its progress, with no count
--                                      over the X ledger on each status read
--   downstreams.delete_force           1: delete on X even if active campaigns target it
--   downstreams.delete_blocked_by      JSON: the campaigns with active line items that hold the
--                                      deletion back, as X last named them; NULL: none
ALTER TABLE connections ADD COLUMN send_interval_minutes INTEGER;
ALTER TABLE downstreams ADD COLUMN send_interval_ms INTEGER;
ALTER TABLE downstreams ADD COLUMN next_send_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN resync_before INTEGER;
ALTER TABLE downstreams ADD COLUMN resync_cursor BLOB;
ALTER TABLE downstreams ADD COLUMN resync_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN resync_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN delete_force INTEGER NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN delete_blocked_by TEXT;
