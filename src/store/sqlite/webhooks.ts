import type Database from 'better-sqlite3';
import type { AlertObservations, AlertOutcome, AlertWatchOptions, NewWebhookEvent, WebhookEvent, WebhookResult } from '../port.ts';
import { ALERT_OBSERVED_STATES, WEBHOOK_EVENTS_KEPT_MS, toWebhookEvent, type WebhookEventRow } from '../states.ts';

/*
 * Alerts and their outbox (port.ts AlertStore). Each function runs inside the caller's IMMEDIATE
 * transaction: the watch reads the observations and the previous states, and writes the new
 * states with their events, under the file's one write lock, so two processes watching one file
 * never raise the same transition twice. Beside a writer thread the reading is made first, outside
 * the write lock, and recorded only if the previous states are unchanged under it (index.ts
 * watchAlerts): the same guarantee. Deliveries are leased (owner, token, until) like claims.
 */

/** The observations and the previous states, as the rule reads them (watchAlerts, and the serving thread's half of it: index.ts). */
export function observeAlerts(db: Database.Database, { erasuresOverdueBefore }: Pick<AlertWatchOptions, 'erasuresOverdueBefore'>): AlertReading {
  const configurations = (
    db.prepare('SELECT id, name, account_id, state, state_reason FROM configurations ORDER BY id').all() as {
      id: string;
      name: string;
      account_id: string;
      state: AlertObservations['configurations'][number]['state'];
      state_reason: string | null;
    }[]
  ).map((r) => ({ id: r.id, name: r.name, accountId: r.account_id, state: r.state, stateReason: r.state_reason }));
  const downstreams = (
    db
      .prepare(
        `SELECT d.id, d.audience_id, a.name AS audience_name, d.configuration_id, d.identity_type, d.x_audience_id, d.audience_size, d.attempts, d.last_error
           FROM downstreams d JOIN audiences a ON a.id = d.audience_id WHERE d.state IN ${ALERT_OBSERVED_STATES} ORDER BY d.id`,
      )
      .all() as DownstreamObservationRow[]
  ).map(toObservation);
  // The erasures_pending index: only the overdue few are read, however many are pending.
  const overdueErasures = (
    db.prepare("SELECT id, received_at FROM erasures WHERE state = 'pending' AND received_at < ? ORDER BY received_at, id").all(erasuresOverdueBefore) as {
      id: string;
      received_at: number;
    }[]
  ).map((r) => ({ id: r.id, requestedAt: r.received_at }));
  return { seen: { configurations, downstreams, overdueErasures }, previous: alertStates(db) };
}

export interface AlertReading {
  seen: AlertObservations;
  previous: Map<string, string>;
}

function alertStates(db: Database.Database): Map<string, string> {
  const rows = db.prepare('SELECT subject, state FROM alert_state').all() as { subject: string; state: string }[];
  return new Map(rows.map((r) => [r.subject, r.state] as const));
}

/** Whether the previous states are still `previous` (recordAlerts' check when the reading was made outside its transaction). */
export function alertStatesAre(db: Database.Database, previous: ReadonlyMap<string, string>): boolean {
  const now = alertStates(db);
  return now.size === previous.size && [...previous].every(([subject, state]) => now.get(subject) === state);
}

/** Writes the rule's states and its events (`pending` when delivered, else `unsent`), and forgets old delivered events. */
export function recordAlerts(db: Database.Database, now: number, deliver: boolean, outcome: AlertOutcome): void {
  const put = db.prepare(
    'INSERT INTO alert_state (subject, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (subject) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
  );
  const forget = db.prepare('DELETE FROM alert_state WHERE subject = ?');
  for (const s of outcome.states) {
    if (s.state === null) forget.run(s.subject);
    else put.run(s.subject, s.state, now);
  }
  const insert = db.prepare('INSERT INTO webhook_events (id, type, occurred_at, body, delivery, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)');
  for (const e of outcome.events) insert.run(e.id, e.type, e.occurredAt, e.body, deliver ? 'pending' : 'unsent', e.occurredAt);
  db.prepare("DELETE FROM webhook_events WHERE delivery <> 'pending' AND occurred_at < ?").run(now - WEBHOOK_EVENTS_KEPT_MS);
}

export function watchAlerts(
  db: Database.Database,
  now: number,
  opts: AlertWatchOptions,
  rule: (seen: AlertObservations, previous: ReadonlyMap<string, string>) => AlertOutcome,
): NewWebhookEvent[] {
  const { seen, previous } = observeAlerts(db, opts);
  const outcome = rule(seen, previous);
  recordAlerts(db, now, opts.deliver, outcome);
  return outcome.events;
}

export function claimWebhooks(
  db: Database.Database,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
  token: string,
): { event: WebhookEvent; token: string }[] {
  const rows = db
    .prepare(
      `SELECT * FROM webhook_events WHERE delivery = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
        ORDER BY occurred_at, id LIMIT ?`,
    )
    .all(now, now, limit) as WebhookEventRow[];
  const lease = db.prepare('UPDATE webhook_events SET lease_owner = ?, lease_token = ?, lease_until = ? WHERE id = ?');
  for (const r of rows) lease.run(owner, token, now + leaseMs, r.id);
  return rows.map((r) => ({ event: toWebhookEvent(r), token }));
}

export function settleWebhook(db: Database.Database, id: string, token: string, result: WebhookResult, now: number): boolean {
  return (
    db
      .prepare(
        `UPDATE webhook_events SET lease_owner = NULL, lease_token = NULL, lease_until = NULL, attempts = attempts + 1,
           delivery = CASE WHEN ? THEN 'delivered' ELSE delivery END, delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END,
           next_attempt_at = ?, last_status = ?, last_error = ?
         WHERE id = ? AND lease_token = ? AND delivery = 'pending'`,
      )
      .run(result.delivered ? 1 : 0, result.delivered ? 1 : 0, now, result.nextAttemptAt, result.status, result.error, id, token).changes === 1
  );
}

export function listWebhookEvents(db: Database.Database, limit: number): WebhookEvent[] {
  return (db.prepare('SELECT * FROM webhook_events ORDER BY occurred_at DESC, id DESC LIMIT ?').all(limit) as WebhookEventRow[]).map(toWebhookEvent);
}

export function nextWebhookAt(db: Database.Database): number | null {
  const at = db
    .prepare(
      "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END) FROM webhook_events WHERE delivery = 'pending'",
    )
    .pluck()
    .get() as number | null;
  return at ?? null;
}

interface DownstreamObservationRow {
  id: number;
  audience_id: string;
  audience_name: string;
  configuration_id: string;
  identity_type: AlertObservations['downstreams'][number]['identityType'];
  x_audience_id: string | null;
  audience_size: number | null;
  attempts: number;
  last_error: string | null;
}

function toObservation(r: DownstreamObservationRow): AlertObservations['downstreams'][number] {
  return {
    id: r.id,
    audienceId: r.audience_id,
    audienceName: r.audience_name,
    configurationId: r.configuration_id,
    identityType: r.identity_type,
    xAudienceId: r.x_audience_id,
    audienceSize: r.audience_size,
    attempts: r.attempts,
    lastError: r.last_error,
  };
}
