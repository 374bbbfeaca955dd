import type { WebhookEvent } from './port.ts';

/*
 * SQL fragments and limits both adapters use, written once so SQLite and PostgreSQL cannot drift.
 */

/** Downstream states that receive changes. Detached and deleting ones are no longer written. */
export const FORWARDING_STATES = "('creating', 'active', 'recreating')";

/** Downstream states a worker has something to do for: the forwarding ones, and those to delete on X. */
export const WORKED_STATES = "('creating', 'active', 'recreating', 'deleting')";

/** The SET clause that gives a downstream audience's lease back. */
export const RELEASE_LEASE = 'lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL';

/**
 * X answered that it is (re)processing the audience and gave no size: the last size it reported
 * stays what the status shows (settle-refreshed.ts on both sides).
 */
export function isProcessing(x: { audienceSize: number | null; reasonsNotTargetable: string[] }): boolean {
  return x.audienceSize === null && x.reasonsNotTargetable.includes('PROCESSING');
}

/** Samples kept per downstream audience: a few days at the default refresh interval. */
export const SAMPLES_KEPT = 2_000;

/** Events (pause, re-creation, rename) kept per downstream audience for its chart: they are rare. */
export const EVENTS_KEPT = 200;

/** Errors kept per downstream audience for the status page. */
export const ERRORS_KEPT = 20;

/** Downstream audiences the alert watch follows: the forwarding ones (detached and deleting ones raise nothing). */
export const ALERT_OBSERVED_STATES = FORWARDING_STATES;

/** Delivered and unsent webhook events are kept this long, for the UI's list; pending ones until delivered. */
export const WEBHOOK_EVENTS_KEPT_MS = 30 * 86_400_000;

/** A `webhook_events` row as both drivers return it. */
export interface WebhookEventRow {
  id: string;
  type: string;
  occurred_at: number;
  body: string;
  delivery: 'pending' | 'delivered' | 'unsent';
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

export function toWebhookEvent(r: WebhookEventRow): WebhookEvent {
  return {
    id: r.id,
    type: r.type,
    occurredAt: r.occurred_at,
    body: r.body,
    delivery: r.delivery,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
  };
}
