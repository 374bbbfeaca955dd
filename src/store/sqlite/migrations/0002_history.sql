-- 0002: history for the status page: X's size and members sent over time, and recent errors.

CREATE TABLE samples (
  downstream_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  members INTEGER NOT NULL,
  audience_size INTEGER,
  PRIMARY KEY (downstream_id, at)
) WITHOUT ROWID;

CREATE TABLE downstream_errors (
  id INTEGER PRIMARY KEY,
  downstream_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX downstream_errors_by_downstream ON downstream_errors (downstream_id, at);
