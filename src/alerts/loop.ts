/**
 * The alert loops of one process: the watch (every few seconds, AlertStore.watchAlerts with the
 * rule of rule.ts) and the delivery of the webhook outbox. An event is a row before it is sent:
 * a receiver that is down or answers non-2xx gets it again with backoff (1 s doubling to 10 min,
 * jittered), for as long as it takes; a restart finds the row and goes on. A delivery whose answer
 * is lost (crash mid-POST) is sent again after its lease: receivers de-duplicate by event id.
 */
import type { Logger } from 'pino';
import { alertEvents, downstreamFailedAttempts, webhookDeliveries, xAudienceSize } from '../metrics.ts';
import type { AlertObservations, AlertStore, WebhookEvent } from '../store/port.ts';
import { ERASURE_DUE_MS, alertRule } from './rule.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signature } from './sign.ts';

export const WEBHOOK_BACKOFF_BASE_MS = 1_000;
export const WEBHOOK_BACKOFF_CAP_MS = 600_000;
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Idle delivery loops look again this often: another process may have raised an event. */
const IDLE_MS = 5_000;

export function webhookBackoffMs(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(WEBHOOK_BACKOFF_CAP_MS, WEBHOOK_BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling * (0.8 + 0.4 * random()));
}

export interface AlertLoopOptions {
  webhookUrl: string | null;
  webhookSecret: string | null;
  alertAfterMs: number;
  /** How often the watch looks; default: a fifth of alertAfterMs, from 200 ms to 5 s. */
  watchIntervalMs?: number;
}

export interface AlertLoopDeps {
  store: AlertStore;
  log: Logger;
  now: () => number;
  owner: string;
}

export class AlertLoop {
  private stopped = false;
  private readonly waits = new Set<() => void>();
  private wakeDelivery: (() => void) | null = null;
  private running: Promise<void>[] = [];
  private readonly watchMs: number;

  constructor(
    private readonly deps: AlertLoopDeps,
    private readonly opts: AlertLoopOptions,
  ) {
    this.watchMs = opts.watchIntervalMs ?? Math.max(200, Math.min(5_000, Math.round(opts.alertAfterMs / 5)));
  }

  start(): void {
    this.running.push(this.watchLoop());
    if (this.opts.webhookUrl !== null) this.running.push(this.deliveryLoop());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const finish of [...this.waits]) finish();
    await Promise.allSettled(this.running);
  }

  /** One look: raises the events of what changed since the last. */
  async watchOnce(): Promise<void> {
    const now = this.deps.now();
    let seen: AlertObservations | null = null;
    const watch = { deliver: this.opts.webhookUrl !== null, erasuresOverdueBefore: now - ERASURE_DUE_MS };
    const events = await this.deps.store.watchAlerts(now, watch, (s, previous) => {
      seen = s;
      return alertRule(s, previous, { now, alertAfterMs: this.opts.alertAfterMs });
    });
    if (seen) this.export(seen);
    for (const e of events) {
      alertEvents.inc({ type: e.type });
      this.deps.log.warn({ event: e.id, type: e.type }, 'alert event');
    }
    if (events.length > 0) this.wakeDelivery?.();
  }

  /** Sends what is due once; returns how many were claimed. */
  async deliverOnce(): Promise<number> {
    const { store, now, owner } = this.deps;
    const claimed = await store.claimWebhooks(owner, now(), WEBHOOK_TIMEOUT_MS + 10_000, 10);
    for (const { event, token } of claimed) {
      if (this.stopped) break;
      const result = await this.post(event);
      webhookDeliveries.inc({ outcome: result.delivered ? 'delivered' : 'failed' });
      const at = now();
      await store.settleWebhook(event.id, token, { ...result, nextAttemptAt: result.delivered ? at : at + webhookBackoffMs(event.attempts + 1) }, at);
      if (!result.delivered)
        this.deps.log.warn({ event: event.id, status: result.status, error: result.error, attempts: event.attempts + 1 }, 'webhook delivery failed');
    }
    return claimed.length;
  }

  private async post(event: WebhookEvent): Promise<{ delivered: boolean; status: number | null; error: string | null }> {
    const url = this.opts.webhookUrl ?? '';
    const timestamp = Math.floor(this.deps.now() / 1000);
    try {
      const res = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Tailor-Webhook',
          'x-tailor-event': event.type,
          'x-tailor-event-id': event.id,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signature(this.opts.webhookSecret ?? '', timestamp, event.body),
        },
        body: event.body,
      });
      await res.arrayBuffer().catch(() => undefined);
      const ok = res.status >= 200 && res.status < 300;
      return { delivered: ok, status: res.status, error: ok ? null : `the receiver answered HTTP ${res.status}` };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const message =
        err instanceof Error && err.name === 'TimeoutError'
          ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
          : (cause ?? (err instanceof Error ? err.message : String(err)));
      return { delivered: false, status: null, error: `could not reach the receiver (${message})` };
    }
  }

  private export(seen: AlertObservations): void {
    downstreamFailedAttempts.reset();
    xAudienceSize.reset();
    for (const d of seen.downstreams) {
      const labels = { audience: d.audienceId, configuration: d.configurationId, identity_type: d.identityType };
      downstreamFailedAttempts.set(labels, d.attempts);
      if (d.audienceSize !== null) xAudienceSize.set(labels, d.audienceSize);
    }
  }

  /** Waits `ms`; stop() ends every wait at once, and the delivery's wait also ends when an event is raised. */
  private sleep(ms: number, wakeable = false): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waits.delete(finish);
        if (wakeable && this.wakeDelivery === finish) this.wakeDelivery = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.waits.add(finish);
      if (wakeable) this.wakeDelivery = finish;
    });
  }

  private async watchLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.watchOnce();
      } catch (err) {
        this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'alert watch failed');
      }
      if (!this.stopped) await this.sleep(this.watchMs);
    }
  }

  private async deliveryLoop(): Promise<void> {
    while (!this.stopped) {
      let wait = IDLE_MS;
      try {
        const claimed = await this.deliverOnce();
        if (claimed > 0) continue;
        const next = await this.deps.store.nextWebhookAt();
        if (next !== null) wait = Math.max(50, Math.min(IDLE_MS, next - this.deps.now()));
      } catch (err) {
        this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'webhook delivery loop failed');
      }
      if (this.stopped) break;
      await this.sleep(wait, true);
    }
  }
}
