-- 0013: alerts. `alert_state` is what the alert watch last saw of each subject (a configuration,
-- a downstream audience), so a transition raises its event once, across restarts and processes.
-- `webhook_events` is the durable outbox of those events: a row is written in the same
-- transaction as the state that raised it and stays until delivered (then it is kept as history,
-- pruned to the newest rows). `delivery` is pending (to send), delivered, or unsent (no
-- TAILOR_WEBHOOK_URL when it was raised). Delivery is leased like a sync claim (owner, token, until).
CREATE TABLE alert_state (
  subject TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  occurred_at BIGINT NOT NULL,
  body TEXT NOT NULL,
  delivery TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_token TEXT,
  lease_until BIGINT,
  last_status INTEGER,
  last_error TEXT,
  delivered_at BIGINT
);
CREATE INDEX webhook_events_due ON webhook_events (delivery, next_attempt_at);
CREATE INDEX webhook_events_recent ON webhook_events (occurred_at);
