-- 0004: a failed read of X's size defers only the next read, not the audience's batches.
ALTER TABLE downstreams ADD COLUMN refresh_after INTEGER NOT NULL DEFAULT 0;
