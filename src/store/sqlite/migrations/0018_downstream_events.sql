-- 0018: what happened to a downstream audience, for the markers on its status chart (issue 16):
-- paused (its configuration needs re-authorization) and resumed, recreated (X lost it; detail:
-- the lost X id) and renamed (detail: its new name on X). Tailor's own record, no identity.
-- Pruned with the samples (TAILOR_X_DATA_RETENTION_DAYS) and with the downstream audience.
CREATE TABLE downstream_events (
  id INTEGER PRIMARY KEY,
  downstream_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,             -- paused | resumed | recreated | renamed
  detail TEXT
);
CREATE INDEX downstream_events_by_downstream ON downstream_events (downstream_id, id);
CREATE INDEX downstream_events_by_at ON downstream_events (at);
