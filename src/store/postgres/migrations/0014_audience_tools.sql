-- 0014: audience tools (as SQLite's 0014, which describes each column): the send cadence per
-- connection, resyncs on demand, and the campaign guard on deleting an X audience.
ALTER TABLE connections ADD COLUMN send_interval_minutes integer;
ALTER TABLE downstreams ADD COLUMN send_interval_ms bigint;
ALTER TABLE downstreams ADD COLUMN next_send_at bigint NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN resync_before bigint;
ALTER TABLE downstreams ADD COLUMN resync_cursor bytea;
ALTER TABLE downstreams ADD COLUMN resync_sent bigint NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN resync_total bigint NOT NULL DEFAULT 0;
ALTER TABLE downstreams ADD COLUMN delete_force boolean NOT NULL DEFAULT false;
ALTER TABLE downstreams ADD COLUMN delete_blocked_by jsonb;
