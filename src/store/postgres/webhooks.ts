import type { AlertObservations, AlertOutcome, AlertWatchOptions, NewWebhookEvent, WebhookEvent, WebhookResult } from '../port.ts';
import { ALERT_OBSERVED_STATES, WEBHOOK_EVENTS_KEPT_MS, toWebhookEvent, type WebhookEventRow } from '../states.ts';
import type { Reader, Sql } from './db.ts';

/*
 * Alerts and their outbox (port.ts AlertStore). The watch runs in one transaction under a
 * transaction-level advisory lock of its own (ALERT_LOCK, taken first and alone, outside the lock
 * order of locks.ts, since it guards only alert_state and webhook_events): two processes watching
 * at once queue on it, and the second sees the first's states, so a transition raises its event
 * once. Deliveries are claimed with FOR UPDATE SKIP LOCKED and leased (owner, token, until).
 */

/** 'TAILALRT' as 8 bytes: never one of the other advisory keys. */
const ALERT_LOCK = 0x5441494c414c5254n;

export async function watchAlerts(
  c: Sql,
  now: number,
  { deliver, erasuresOverdueBefore }: AlertWatchOptions,
  rule: (seen: AlertObservations, previous: ReadonlyMap<string, string>) => AlertOutcome,
): Promise<NewWebhookEvent[]> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [ALERT_LOCK.toString()]);
  const configurations = (
    await c.query<{ id: string; name: string; account_id: string; state: AlertObservations['configurations'][number]['state']; state_reason: string | null }>(
      'SELECT id, name, account_id, state, state_reason FROM configurations ORDER BY id',
    )
  ).rows.map((r) => ({ id: r.id, name: r.name, accountId: r.account_id, state: r.state, stateReason: r.state_reason }));
  const downstreams = (
    await c.query<DownstreamObservationRow>(
      `SELECT d.id, d.audience_id, a.name AS audience_name, d.configuration_id, d.identity_type, d.x_audience_id, d.audience_size, d.attempts, d.last_error
         FROM downstreams d JOIN audiences a ON a.id = d.audience_id WHERE d.state IN ${ALERT_OBSERVED_STATES} ORDER BY d.id`,
    )
  ).rows.map(toObservation);
  // The erasures_pending index: only the overdue few are read, however many are pending.
  const overdueErasures = (
    await c.query<{ id: string; received_at: number }>(
      "SELECT id, received_at FROM erasures WHERE state = 'pending' AND received_at < $1 ORDER BY received_at, id",
      [erasuresOverdueBefore],
    )
  ).rows.map((r) => ({ id: r.id, requestedAt: r.received_at }));
  const previous = new Map(
    (await c.query<{ subject: string; state: string }>('SELECT subject, state FROM alert_state')).rows.map((r) => [r.subject, r.state] as const),
  );
  const outcome = rule({ configurations, downstreams, overdueErasures }, previous);
  for (const s of outcome.states) {
    if (s.state === null) await c.query('DELETE FROM alert_state WHERE subject = $1', [s.subject]);
    else
      await c.query(
        'INSERT INTO alert_state (subject, state, updated_at) VALUES ($1, $2, $3) ON CONFLICT (subject) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
        [s.subject, s.state, now],
      );
  }
  for (const e of outcome.events)
    await c.query('INSERT INTO webhook_events (id, type, occurred_at, body, delivery, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      e.id,
      e.type,
      e.occurredAt,
      e.body,
      deliver ? 'pending' : 'unsent',
      e.occurredAt,
    ]);
  await c.query("DELETE FROM webhook_events WHERE delivery <> 'pending' AND occurred_at < $1", [now - WEBHOOK_EVENTS_KEPT_MS]);
  return outcome.events;
}

export async function claimWebhooks(
  c: Sql,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
  token: string,
): Promise<{ event: WebhookEvent; token: string }[]> {
  const rows = (
    await c.query<WebhookEventRow>(
      `UPDATE webhook_events SET lease_owner = $1, lease_token = $2, lease_until = $3
        WHERE id IN (SELECT id FROM webhook_events WHERE delivery = 'pending' AND next_attempt_at <= $4 AND (lease_until IS NULL OR lease_until <= $4)
                      ORDER BY occurred_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [owner, token, now + leaseMs, now, limit],
    )
  ).rows;
  rows.sort((a, b) => a.occurred_at - b.occurred_at || (a.id < b.id ? -1 : 1));
  return rows.map((r) => ({ event: toWebhookEvent(r), token }));
}

export async function settleWebhook(c: Reader, id: string, token: string, result: WebhookResult, now: number): Promise<boolean> {
  const r = await c.query(
    `UPDATE webhook_events SET lease_owner = NULL, lease_token = NULL, lease_until = NULL, attempts = attempts + 1,
       delivery = CASE WHEN $1 THEN 'delivered' ELSE delivery END, delivered_at = CASE WHEN $1 THEN $2::bigint ELSE delivered_at END,
       next_attempt_at = $3, last_status = $4, last_error = $5
     WHERE id = $6 AND lease_token = $7 AND delivery = 'pending'`,
    [result.delivered, now, result.nextAttemptAt, result.status, result.error, id, token],
  );
  return r.rowCount === 1;
}

export async function listWebhookEvents(c: Reader, limit: number): Promise<WebhookEvent[]> {
  return (await c.query<WebhookEventRow>('SELECT * FROM webhook_events ORDER BY occurred_at DESC, id DESC LIMIT $1', [limit])).rows.map(toWebhookEvent);
}

export async function nextWebhookAt(c: Reader): Promise<number | null> {
  const r = await c.query<{ at: number | null }>(
    "SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_until, 0))) AS at FROM webhook_events WHERE delivery = 'pending'",
  );
  return r.rows[0]?.at ?? null;
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
    id: Number(r.id),
    audienceId: r.audience_id,
    audienceName: r.audience_name,
    configurationId: r.configuration_id,
    identityType: r.identity_type,
    xAudienceId: r.x_audience_id,
    audienceSize: r.audience_size === null ? null : Number(r.audience_size),
    attempts: Number(r.attempts),
    lastError: r.last_error,
  };
}
