/**
 * Tailor's Prometheus metrics: one registry per process and the metric objects, updated where the
 * things they count happen (sources, sync worker, send task) and read by `GET /metrics`
 * (server/metrics.ts). Gauges that describe the database (pending changes, configurations needing
 * re-authorization) are not kept here: they are read from the store at each scrape.
 *
 * Labels never carry identifiers or hashes: only sources, reasons, identity types, X operations
 * and statuses, and audience / configuration ids (which users choose and which are not PII).
 * Every metric is named in docs/benchmarks.md ("Observability").
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
// process_* and nodejs_*: CPU, resident memory, heap, event-loop lag, open handles.
collectDefaultMetrics({ register: registry });

/** Where a membership change came from. */
export type ChangeSource = 'rest' | 'firehose' | 'import';

const registers = [registry];

export const changesAccepted = new Counter({
  name: 'tailor_changes_accepted_total',
  help: 'Member changes accepted and made durable, by source and action',
  labelNames: ['source', 'action'] as const,
  registers,
});

export const changesRejected = new Counter({
  name: 'tailor_changes_rejected_total',
  help: 'Identifiers dropped at ingest (never stored), by source and reason',
  labelNames: ['source', 'reason'] as const,
  registers,
});

export const firehoseForeignAudience = new Counter({
  name: 'tailor_firehose_foreign_audience_total',
  help: 'Firehose messages for an audience the Firehose did not create for that account (REST, import, or another account), answered as for an unknown audience and not applied, by message',
  labelNames: ['message'] as const,
  registers,
});

export const pendingChanges = new Gauge({
  name: 'tailor_pending_changes',
  help: 'Changes waiting in the outbox, per downstream X audience (read from the store at scrape)',
  labelNames: ['audience', 'configuration', 'identity_type'] as const,
  registers,
});

export const oldestPendingAge = new Gauge({
  name: 'tailor_oldest_pending_change_age_seconds',
  help: 'Age of the oldest pending change, per downstream X audience (0 when none waits)',
  labelNames: ['audience', 'configuration', 'identity_type'] as const,
  registers,
});

export const configurationsNeedingReauth = new Gauge({
  name: 'tailor_configurations_needing_reauthorization',
  help: 'X configurations paused until a user logs in with X again',
  registers,
});

/** The 24-hour clock (docs/privacy.md): X's Exhibit B 1.2 asks for opt-outs to reach every audience within a day. */
export const privacyPending = new Gauge({
  name: 'tailor_privacy_pending',
  help: 'Unfinished erasures and suppressions (X has not yet acknowledged every removal), by kind',
  labelNames: ['kind'],
  registers: [registry],
});

export const privacyOldestPendingAge = new Gauge({
  name: 'tailor_privacy_oldest_pending_age_seconds',
  help: 'Age of the oldest unfinished erasure or suppression, by kind (0 when none); X allows 24 hours',
  labelNames: ['kind'],
  registers: [registry],
});

export const privacyWaitingOnReauth = new Gauge({
  name: 'tailor_privacy_waiting_on_reauth',
  help: 'Configurations needing re-authorization that hold removals of suppressed identities back',
  registers: [registry],
});

export const batchesSent = new Counter({
  name: 'tailor_batches_sent_total',
  help: 'X users requests accepted by X, by identity type',
  labelNames: ['identity_type'] as const,
  registers,
});

export const renewed = new Counter({
  name: 'tailor_renewed_total',
  help: "Hashes X held that were sent again before X's expiry dropped them (renewals accepted by X), by identity type",
  labelNames: ['identity_type'] as const,
  registers,
});

export const batchUsers = new Histogram({
  name: 'tailor_batch_users',
  help: 'Users (changes) per X users request accepted by X',
  labelNames: ['identity_type'] as const,
  // Up to X's ceiling: about 60,000 SHA-256 users fit in its 5,000,000-byte body.
  buckets: [1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 60_000, 64_000],
  registers,
});

export const xResponses = new Counter({
  name: 'tailor_x_responses_total',
  help: 'Answers of the X Ads API to sync calls, by operation, HTTP status (2xx on success, none without an answer) and X error code',
  labelNames: ['operation', 'status', 'code'] as const,
  registers,
});

export const syncRetries = new Counter({
  name: 'tailor_sync_retries_total',
  help: 'Sync tasks given back to be retried later with backoff (5xx, timeouts, dropped connections, internal errors)',
  labelNames: ['task'] as const,
  registers,
});

export const rateLimitWaits = new Counter({
  name: 'tailor_rate_limit_waits_total',
  help: "Waits for a rate limit: Tailor's own token bucket (tailor) or a 429 from X (x)",
  labelNames: ['family', 'cause'] as const,
  registers,
});

export const rateLimitWaitSeconds = new Counter({
  name: 'tailor_rate_limit_wait_seconds_total',
  help: 'Time asked to wait for rate limits, summed',
  labelNames: ['family', 'cause'] as const,
  registers,
});

export const syncLatency = new Histogram({
  name: 'tailor_sync_latency_seconds',
  help: "From a change's acknowledgement (first enqueued) to X's answer accepting it; one observation per batch, its oldest change",
  labelNames: ['identity_type'] as const,
  // Around the flush interval (10 s by default; 1 s in the benchmark), then backlog territory.
  buckets: [0.25, 0.5, 1, 1.5, 2, 5, 10, 11, 15, 30, 60, 120, 300, 600, 1800, 3600],
  registers,
});

export const httpDuration = new Histogram({
  name: 'tailor_http_request_duration_seconds',
  help: 'HTTP answers by method, route pattern and status (the Firehose bar is p99 < 100 ms)',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});

/**
 * Counts one ingest that was just made durable (membership/ingest.ts): what was accepted, by
 * action, and the identifiers dropped, by reason.
 */
export function countIngest(source: ChangeSource, accepted: Record<'add' | 'remove', number>, rejections: Record<string, number>): void {
  for (const action of ['add', 'remove'] as const) if (accepted[action] > 0) changesAccepted.inc({ source, action }, accepted[action]);
  countRejections(source, rejections);
}

/** Counts identifiers dropped at ingest, by reason. */
export function countRejections(source: ChangeSource, counts: Record<string, number>): void {
  for (const [reason, n] of Object.entries(counts)) if (n > 0) changesRejected.inc({ source, reason }, n);
}

export const downstreamFailedAttempts = new Gauge({
  name: 'tailor_downstream_failed_attempts',
  help: 'Failed tasks in a row of each forwarding downstream audience (0 once one succeeds), as the alert watch last saw them',
  labelNames: ['audience', 'configuration', 'identity_type'] as const,
  registers,
});

export const xAudienceSize = new Gauge({
  name: 'tailor_x_audience_size',
  help: "X's audience_size of each forwarding downstream audience (absent until X reports one), as the alert watch last saw it",
  labelNames: ['audience', 'configuration', 'identity_type'] as const,
  registers,
});

export const alertEvents = new Counter({
  name: 'tailor_alert_events_total',
  help: 'Alert events raised by this process (src/alerts/rule.ts), by type',
  labelNames: ['type'] as const,
  registers,
});

export const webhookDeliveries = new Counter({
  name: 'tailor_webhook_deliveries_total',
  help: 'Webhook delivery attempts by outcome: delivered (2xx) or failed (another status, refused, timed out; retried with backoff)',
  labelNames: ['outcome'] as const,
  registers,
});
