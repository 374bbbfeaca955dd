/**
 * The retention of X's data (TAILOR_X_DATA_RETENTION_DAYS; X's Ads API Agreement 8.4): every
 * process that runs sync workers prunes, at start and then every `everyMs`, the sizes and
 * targetability X reported, and their history, received more than `retentionMs` ago
 * (`RetentionStore.pruneXData`), and the delivery log's calls (X's answers to them) older than its
 * own window (TAILOR_DELIVERY_LOG_DAYS) or the retention, whichever is sooner. Pruning is
 * idempotent, so several processes on one PostgreSQL database may run it at once. The default pace, an hour (at most a tenth of the retention), keeps
 * nothing more than an hour past its limit.
 */
import type { Logger } from 'pino';
import type { RetentionStore } from '../store/port.ts';

export const RETENTION_EVERY_MS = 3_600_000;

export interface RetentionOptions {
  retentionMs: number;
  /** How long the delivery log keeps a call (TAILOR_DELIVERY_LOG_DAYS): never longer than retentionMs. */
  deliveryLogMs?: number;
  /** How often to prune; an hour, or a tenth of the retention when that is shorter (never under 1 s). */
  everyMs?: number;
}

export class RetentionPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly everyMs: number;

  constructor(
    private readonly deps: { store: RetentionStore; log: Logger; now: () => number },
    private readonly opts: RetentionOptions,
  ) {
    this.everyMs = opts.everyMs ?? Math.max(1_000, Math.min(RETENTION_EVERY_MS, Math.floor(opts.retentionMs / 10)));
  }

  /** One pass: what X's data older than the limit there was, deleted. */
  async prune(): Promise<{ samples: number; downstreams: number; deliveries: number }> {
    const now = this.deps.now();
    const pruned = await this.deps.store.pruneXData(now - this.opts.retentionMs, now - Math.min(this.opts.retentionMs, this.opts.deliveryLogMs ?? Infinity));
    if (pruned.samples > 0 || pruned.downstreams > 0 || pruned.deliveries > 0)
      this.deps.log.info({ ...pruned, retention_days: this.opts.retentionMs / 86_400_000 }, "X's data past its retention deleted");
    return pruned;
  }

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.running = this.prune()
        .then(() => undefined)
        .catch((err: unknown) => this.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, "pruning X's data failed; next try later"))
        .finally(() => {
          this.running = null;
        });
    };
    tick();
    this.timer = setInterval(tick, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
