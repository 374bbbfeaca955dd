-- 0012: status that tells the truth (issue 16), and the delivery log.
-- While X re-processes an audience it reports no size and "PROCESSING": the last size and
-- targetability X reported are kept, and processing_since says since when X has been at it.
-- sized_members: the members on X (confirmed) when X last reported a size, so the match rate
-- divides X's size by the membership X sized, not by today's.
ALTER TABLE downstreams ADD COLUMN processing_since INTEGER;
ALTER TABLE downstreams ADD COLUMN sized_at INTEGER;
ALTER TABLE downstreams ADD COLUMN sized_members INTEGER;
-- When X lost an audience and it was re-created under a new id: the lost id and when, so the
-- status can tell the marketer to re-point campaigns that targeted it.
ALTER TABLE downstreams ADD COLUMN previous_x_audience_id TEXT;
ALTER TABLE downstreams ADD COLUMN recreated_at INTEGER;
ALTER TABLE samples ADD COLUMN sized_members INTEGER;
-- Uncertain hashes are few; the status counts them with one seek.
CREATE INDEX x_members_uncertain ON x_members (downstream_id) WHERE confirmed = 0;

-- The delivery log: one row per `users` call, kept TAILOR_DELIVERY_LOG_DAYS (pruned at insert).
-- No hash and no identifier: only counts, sizes and X's answer.
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  downstream_id INTEGER NOT NULL,
  at INTEGER NOT NULL,            -- when the call started
  adds INTEGER NOT NULL,
  removes INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  status INTEGER,                 -- X's HTTP status; null when no answer came
  success_count INTEGER,
  total_count INTEGER,
  duration_ms INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX deliveries_by_downstream ON deliveries (downstream_id, id);
CREATE INDEX deliveries_by_at ON deliveries (at);

-- The status reads find an audience's downstream audiences by audience id, deleting ones included
-- (downstreams_live is partial, so it cannot serve them).
CREATE INDEX downstreams_by_audience ON downstreams (audience_id);
