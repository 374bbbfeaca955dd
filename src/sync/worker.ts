import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyncError, StoreUnavailableError } from '../core/errors.ts';
import { rateLimitWaits, rateLimitWaitSeconds, syncRetries } from '../metrics.ts';
import { IDENTITY_TYPES, type IdentityType } from '../core/terms.ts';
import { usersPerRequest } from '../x/pack.ts';
import type { Claim, Task } from '../store/port.ts';
import { backoffMs } from './backoff.ts';
import { WaitTooLong, type SyncContext, type TaskInput } from './context.ts';
import type { RateFamily } from './rate.ts';
import { sweepDeadOwners } from './sweep.ts';
import { openTokens } from './tokens.ts';
import { createTask, recreationSuffix } from './tasks/create.ts';
import { deleteTask } from './tasks/delete.ts';
import { refreshTask } from './tasks/refresh.ts';
import { renameTask } from './tasks/rename.ts';
import { sendTask } from './tasks/send.ts';

/**
 * The most changes one batch claims, per identity type: as many users of that type as fit in X's
 * 5,000,000-byte body with its operation envelopes, so one claim is one request and a backlog
 * drains at the fewest requests X's limits allow. Shorter keys carry more (63,289 e-mails, 60,239
 * device ids, 58,138 phone numbers); sized for the longest alone, a backlog of e-mails would drain
 * in 9% more requests than X's limits need (npm run bench, packing).
 */
export const BATCH_BY_TYPE: Record<IdentityType, number> = Object.fromEntries(IDENTITY_TYPES.map((t) => [t, usersPerRequest(t)])) as Record<
  IdentityType,
  number
>;
/** The bound for a type without its own (none today): the longest key's, `phone_number`. */
export const MAX_BATCH = Math.min(...Object.values(BATCH_BY_TYPE));

/**
 * The shortest lease. A lease outlives the longest X call and a short rate wait: leaseMsFor gives
 * twice the X timeout plus 10 s (70 s at the default 30 s timeout), never less than this. A worker
 * that dies holding one on another host delays its downstream audience by that long.
 */
export const LEASE_MS = 60_000;

export function leaseMsFor(xTimeoutMs: number): number {
  return Math.max(LEASE_MS, 2 * xTimeoutMs + 10_000);
}
/** Idle workers look for due work at least this often (new changes wake them sooner). */
const POLL_MS = 1_000;
/**
 * While the store wakes workers on every commit, of any process, that can give them work
 * (`QueueStore.wakesListening`: PostgreSQL's LISTEN/NOTIFY, connected), an idle loop sleeps until
 * the next due time (nextDueAt) instead, at most this long: an idle installation of 10,000
 * audiences no longer reads every downstream row, per loop, every second. What nothing announces
 * (a lease left by a worker that died after the loop last looked) waits this long at most.
 */
const LISTENING_POLL_MS = 30_000;
/** How often leases of dead local processes are looked for, beside once at start. */
const SWEEP_EVERY_MS = 10_000;
/** Longer rate waits (in total, per call) release the lease and come back later instead of holding it idle. */
const MAX_GATE_WAIT_MS = 5_000;
/** After a failed read of X's size, the next read waits about this long (or X's rate-limit reset). */
const REFRESH_RETRY_MS = 30_000;
/** Room kept between the end of the last possible X call and the lease's expiry: the settle. */
const LEASE_SAFETY_MS = 5_000;

const TASKS: Record<Task, (ctx: SyncContext, input: TaskInput) => Promise<void>> = {
  create: createTask,
  rename: renameTask,
  delete: deleteTask,
  send: sendTask,
  refresh: refreshTask,
};

export interface WorkerOptions {
  concurrency: number;
  flushIntervalMs: number;
  refreshIntervalMs: number;
  /** Re-send a hash X confirmed longer ago than this (TAILOR_RENEW_AFTER_DAYS); unset: never. */
  renewAfterMs?: number;
  /** The X client's timeout: a call may only start while the lease outlives it. */
  xTimeoutMs: number;
}

/**
 * Sync workers: claim a downstream audience with work, do it against X, settle with the lease
 * token. Several loops run concurrently in one process; several processes may share a database.
 */
export class SyncWorker {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private stopping = false;
  private markStopped: () => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));
  private loops: Promise<void>[] = [];
  private wake: (() => void) | null = null;
  private wakePromise: Promise<void> | null = null;
  /** Wake-ups so far: a loop that was woken while it looked does not go to sleep on what it saw. */
  private wakes = 0;
  private unsubscribeWake: (() => void) | null = null;
  /**
   * Leases this process still holds because their settle or release failed on a store error (disk
   * full, database unwritable): downstream id → lease token. They are released as soon as the store
   * takes writes again; left alone, they would idle their downstream audiences until the lease
   * expires (LEASE_MS), long after the store recovered.
   */
  private readonly stranded = new Map<number, string>();

  constructor(
    private readonly ctx: SyncContext,
    private readonly opts: WorkerOptions,
  ) {}

  start(): void {
    // Changes committed by other processes (PostgreSQL) wake idle loops too.
    this.unsubscribeWake = this.ctx.store.onWake?.(() => this.notify()) ?? null;
    this.loops.push(this.sweeper());
    for (let i = 0; i < this.opts.concurrency; i += 1) this.loops.push(this.loop());
  }

  private async sweeper(): Promise<void> {
    while (!this.stopping) {
      try {
        await sweepDeadOwners(this.ctx.store, this.ctx.log);
      } catch (err) {
        this.ctx.log.warn({ err: describe(err) }, 'lease sweep failed');
      }
      await Promise.race([sleep(SWEEP_EVERY_MS, undefined, { ref: false }), this.stopped]);
    }
  }

  /** New changes arrived: idle loops look now rather than at their next poll. */
  notify(): void {
    this.wakes += 1;
    this.wake?.();
  }

  /** Stops claiming, lets in-flight batches finish (bounded by X's timeout), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.markStopped();
    this.unsubscribeWake?.();
    this.notify();
    await Promise.all(this.loops);
    await this.releaseStranded().catch(() => undefined); // else they expire
  }

  private idle(ms: number): Promise<void> {
    if (!this.wakePromise) {
      this.wakePromise = new Promise<void>((resolve) => {
        this.wake = () => {
          this.wake = null;
          this.wakePromise = null;
          resolve();
        };
      });
    }
    return Promise.race([this.wakePromise, sleep(ms, undefined, { ref: false })]);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.releaseStranded();
        const wakes = this.wakes;
        const claim = await this.ctx.store.claim({
          owner: this.owner,
          now: this.ctx.now(),
          leaseMs: leaseMsFor(this.opts.xTimeoutMs),
          flushIntervalMs: this.opts.flushIntervalMs,
          fullBatch: MAX_BATCH,
          maxChanges: MAX_BATCH,
          maxChangesByType: BATCH_BY_TYPE,
          refreshIntervalMs: this.opts.refreshIntervalMs,
          ...(this.opts.renewAfterMs === undefined ? {} : { renewAfterMs: this.opts.renewAfterMs }),
        });
        if (claim) {
          try {
            await this.run(claim);
          } catch (err) {
            if (err instanceof StoreUnavailableError) this.stranded.set(claim.downstream.id, claim.leaseToken);
            throw err;
          }
          continue;
        }
        const now = this.ctx.now();
        const due = await this.ctx.store.nextDueAt({
          now,
          flushIntervalMs: this.opts.flushIntervalMs,
          refreshIntervalMs: this.opts.refreshIntervalMs,
          ...(this.opts.renewAfterMs === undefined ? {} : { renewAfterMs: this.opts.renewAfterMs }),
        });
        // Woken while it looked (a commit after the claim read the database): look again now.
        if (this.wakes !== wakes) continue;
        const poll = this.ctx.store.wakesListening?.() === true ? LISTENING_POLL_MS : POLL_MS;
        await this.idle(Math.max(10, Math.min(poll, (due ?? Infinity) - now)));
      } catch (err) {
        // The store failed (disk full, database gone): nothing was settled; the lease, if any, is
        // released once the store is back (releaseStranded).
        this.ctx.log.error({ err: describe(err) }, 'sync loop error; retrying');
        await this.idle(POLL_MS);
      }
    }
  }

  /**
   * Releases the leases whose outcome could not be recorded. Their changes stay pending and the
   * hashes of a batch that may have reached X stay uncertain in the X ledger, as after a crash, so
   * the next send is exact. Throws while the store still fails; the loop then tries again.
   */
  private async releaseStranded(): Promise<void> {
    for (const [downstreamId, token] of this.stranded) {
      const now = this.ctx.now();
      await this.ctx.store.release(downstreamId, token, { nextAttemptAt: now, error: null, countAttempt: false, now });
      this.stranded.delete(downstreamId);
      this.ctx.log.info({ downstream: downstreamId }, 'released a lease whose settle had failed on a store error');
    }
  }

  private async run(claim: Claim): Promise<void> {
    const { store, log } = this.ctx;
    const d = claim.downstream;
    const accountId = claim.configuration.accountId;
    // Every X call must end (answer or timeout) before the lease does, or another worker could
    // take the downstream audience over while this call is still in flight. So a call starts
    // only while the lease has room for it, and rate waits count against that room.
    const leaseEnds = this.ctx.now() + leaseMsFor(this.opts.xTimeoutMs);
    const latestStart = leaseEnds - this.opts.xTimeoutMs - LEASE_SAFETY_MS;
    const gate = async (family: RateFamily): Promise<void> => {
      const gateStarted = this.ctx.now();
      for (;;) {
        const now = this.ctx.now();
        const wait = await this.ctx.rate.take(accountId, family, now);
        if (wait === 0) {
          if (now > latestStart) throw new WaitTooLong(now); // too late in the lease: claim afresh
          return;
        }
        rateLimitWaits.inc({ family, cause: 'tailor' });
        rateLimitWaitSeconds.inc({ family, cause: 'tailor' }, wait / 1000);
        if (now - gateStarted + wait > MAX_GATE_WAIT_MS || now + wait > latestStart) throw new WaitTooLong(now + wait);
        await sleep(wait);
      }
    };
    try {
      const tokens = openTokens(this.ctx.box, claim.configuration.tokens);
      await TASKS[claim.task](this.ctx, { claim, tokens, accountId, gate });
    } catch (err) {
      const now = this.ctx.now();
      if (err instanceof WaitTooLong) {
        await store.release(d.id, claim.leaseToken, { nextAttemptAt: err.until, error: null, countAttempt: false, now });
        return;
      }
      if (!(err instanceof SyncError)) {
        if (err instanceof StoreUnavailableError) throw err;
        log.error({ err: describe(err), downstream: d.id, task: claim.task }, 'unexpected error in a sync task');
        syncRetries.inc({ task: claim.task });
        await store.release(d.id, claim.leaseToken, {
          nextAttemptAt: now + backoffMs(d.attempts),
          error: `Internal error: ${describe(err)}`,
          countAttempt: true,
          now,
        });
        return;
      }
      await this.decide(claim, err, now);
    }
  }

  /** What each fate means for the claimed downstream audience. */
  private async decide(claim: Claim, err: SyncError, now: number): Promise<void> {
    const { store, log } = this.ctx;
    const d = claim.downstream;
    const fields = { downstream: d.id, task: claim.task, status: err.status, code: err.code };
    if (claim.task === 'refresh' && (err.fate === 'retry' || err.fate === 'rate_limited' || err.fate === 'rejected')) {
      // A failed read of X's size must not hold up the audience's batches: only the next read waits.
      const resetAt = err.fate === 'rate_limited' ? (err as SyncError & { resetAt: number }).resetAt : null;
      if (resetAt !== null) await this.ctx.rate.hold(claim.configuration.accountId, 'read', resetAt, now);
      const refreshAfter = resetAt ?? now + Math.min(this.opts.refreshIntervalMs, REFRESH_RETRY_MS) * (0.5 + Math.random() / 2);
      await store.release(d.id, claim.leaseToken, { nextAttemptAt: now, error: err.message, countAttempt: false, now, refreshAfter });
      log.warn({ ...fields, refreshAfter }, "reading X's size failed; will read it again later");
      return;
    }
    switch (err.fate) {
      case 'rate_limited': {
        const resetAt = (err as SyncError & { resetAt: number }).resetAt;
        const family: RateFamily = claim.task === 'send' ? 'users' : claim.task === 'refresh' ? 'read' : 'write';
        await this.ctx.rate.hold(claim.configuration.accountId, family, resetAt, now);
        rateLimitWaits.inc({ family, cause: 'x' });
        rateLimitWaitSeconds.inc({ family, cause: 'x' }, Math.max(0, resetAt - now) / 1000);
        await store.release(d.id, claim.leaseToken, { nextAttemptAt: resetAt, error: err.message, countAttempt: false, now });
        log.warn({ ...fields, resetAt }, 'X rate limit reached; waiting for its reset');
        return;
      }
      case 'retry': {
        const retryAfter = (err as SyncError & { retryAfterMs?: number }).retryAfterMs;
        const wait = Math.max(retryAfter ?? 0, backoffMs(d.attempts));
        syncRetries.inc({ task: claim.task });
        await store.release(d.id, claim.leaseToken, { nextAttemptAt: now + wait, error: err.message, countAttempt: true, now });
        log.warn({ ...fields, retryInMs: wait }, 'X call failed; will retry');
        return;
      }
      case 'reauth': {
        await store.setConfigurationState(claim.configuration.id, 'needs_reauth', err.message, now, 'worker');
        await store.release(d.id, claim.leaseToken, { nextAttemptAt: now, error: err.message, countAttempt: false, now });
        log.warn({ ...fields, configuration: claim.configuration.id }, 'configuration needs re-authorization; its changes are kept');
        return;
      }
      case 'not_found': {
        if (claim.task === 'delete') {
          if (await store.settleDeleted(d.id, claim.leaseToken, now)) log.info(fields, 'downstream audience already gone on X; forgotten');
          return;
        }
        const reason = `The X audience was deleted outside Tailor; re-creating it and sending its ${d.members} members again.`;
        await store.settleNotFound(d.id, claim.leaseToken, reason, now, recreationSuffix(d, claim.audienceName));
        log.warn(fields, 'downstream audience missing on X; re-creating and refilling it');
        return;
      }
      case 'name_taken':
      case 'rejected': {
        await store.release(d.id, claim.leaseToken, { nextAttemptAt: now + backoffMs(d.attempts + 5), error: err.message, countAttempt: true, now });
        log.warn(fields, 'X refused a request');
        return;
      }
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
