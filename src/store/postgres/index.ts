import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '../../core/errors.ts';
import type { ConfigurationState, IdentityType } from '../../core/terms.ts';
import type {
  AuditBy,
  AuditEntry,
  ApplyResult,
  Audience,
  AudienceOrigin,
  Claim,
  ClaimOptions,
  Configuration,
  ConfigurationInput,
  Connection,
  ConnectionSettings,
  DeletionStatus,
  LedgerPreview,
  LookupRow,
  TargetingCampaign,
  DownstreamEvent,
  DownstreamStatus,
  Erasure,
  ErasureInput,
  FirehoseAccess,
  HashedIdentity,
  PrivacySnapshot,
  SuppressionResult,
  FirehoseSender,
  MemberChange,
  MetricsSnapshot,
  SentBatch,
  Store,
  XAudienceState,
  ReleaseOptions,
  AlertObservations,
  AlertOutcome,
  AlertWatchOptions,
  NewWebhookEvent,
  WebhookEvent,
  WebhookResult,
  AudiencePage,
  AudienceQuery,
  AudiencesStatus,
  Delivery,
  DeliveryRow,
} from '../port.ts';
import type { OpenOptions } from '../open-options.ts';
import { WORKED_STATES } from '../states.ts';
import { waitingForMemberSql } from '../creation.ts';
import { optOutWaitingSql } from '../cadence.ts';
import * as audiences from './audiences.ts';
import * as audit from './audit.ts';
import * as entries from '../audit-entries.ts';
import { auditActor, auditEntry, type AuditChange } from '../audit-entries.ts';
import { claim } from './claim.ts';
import * as configurations from './configurations.ts';
import * as connections from './connections.ts';
import { Db, createPool, isUnavailable, type Sql } from './db.ts';
import { applyMemberChanges } from './ledger.ts';
import * as meta from './meta.ts';
import { migrate } from './migrate.ts';
import * as privacy from './privacy.ts';
import { holdRate, takeRateToken } from './rate.ts';
import { release } from './release.ts';
import { pruneXData } from './retention.ts';
import { leaseOwners, releaseOwner } from './release-owner.ts';
import * as sessions from './sessions.ts';
import { recordCreateAttempt, settleCreated } from './settle-created.ts';
import { holdDeletion } from './settle-delete-held.ts';
import { settleDeleted } from './settle-deleted.ts';
import { lookup } from './lookup.ts';
import { previewMemberChanges } from './preview.ts';
import { settleNotFound } from './settle-not-found.ts';
import { settleRefreshed } from './settle-refreshed.ts';
import * as deliveries from './deliveries.ts';
import { settleRejected } from './settle-rejected.ts';
import { settleRenamed } from './settle-renamed.ts';
import { settleSent } from './settle-sent.ts';
import * as status from './status.ts';
import * as webhooks from './webhooks.ts';
import { WakeListener } from './wake.ts';
import { PENDING_SQL } from './due-scan.ts';

/*
 * The store on PostgreSQL. This class only wires the port (port.ts) to one file per operation and
 * owns the transactions: `this.db.tx` (db.ts: READ COMMITTED, retried whole on a deadlock) for
 * every operation of more than one statement, `this.db.query` (autocommit) for single statements
 * and reads. The operation files are named as in ../sqlite/, so a reader who knows one side finds
 * the other (test/store/file-set.test.ts keeps it so); src/store/README.md lists them.
 *
 * Files of this side only: db.ts (the pool, transactions, error mapping), locks.ts (the lock order
 * and the per-audience advisory lock, which SQLite's one writer per file makes unneeded),
 * wake.ts (LISTEN/NOTIFY between processes), migrate.ts (migrations under an advisory lock; on
 * SQLite, open.ts runs them). nextDueAt stays below, next to the claim it mirrors.
 */

/** With a cadence, no change (nor renewal) is due before the window opens, but an opt-out's (../cadence.ts). */
const CADENCE = `CASE WHEN d.send_interval_ms IS NULL OR ${optOutWaitingSql('d')} THEN 0 ELSE d.next_send_at END`;
/** After a write that may have removed a suppressed hash from X or the outbox: the 24-hour clock moves on. */
async function settled(c: Sql, ok: boolean, now: number): Promise<boolean> {
  if (ok) await privacy.settlePrivacy(c, now, 'worker');
  return ok;
}

/** Opens the pool, applies pending migrations (under the migration advisory lock) and returns the store. */
export async function openPostgresStore(url: string, opts: OpenOptions = {}): Promise<PostgresStore> {
  const pool = createPool(url);
  try {
    await migrate(pool, opts);
  } catch (err) {
    await pool.end();
    if (!isUnavailable(err)) throw err;
    // The one line an operator sees when the database is down or the URL is wrong at start-up.
    throw new StoreUnavailableError(`cannot reach PostgreSQL at ${redacted(url)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return new PostgresStore(new Db(pool), withoutPoolOptions(url));
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

function withoutPoolOptions(url: string): string {
  const u = new URL(url);
  u.searchParams.delete('pool_max');
  return u.toString();
}

/**
 * The store on PostgreSQL, for many `tailor serve` and `tailor worker` processes over one
 * database. Same semantics as the SQLite store (the reference); what differs is how concurrent
 * writers are kept exact: see locks.ts (the lock order and the per-audience advisory lock),
 * ledger.ts (ingest), claim.ts (SKIP LOCKED claims) and lease.ts (token-guarded settles).
 */
export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  private readonly wake: WakeListener;
  private installation: string | null = null;

  constructor(
    private readonly db: Db,
    connectionString: string,
  ) {
    this.wake = new WakeListener(connectionString);
  }

  async installationId(): Promise<string> {
    this.installation ??= await meta.installationId(this.db);
    return this.installation;
  }

  async close(): Promise<void> {
    await this.wake.close();
    await this.db.pool.end();
  }

  /**
   * The one way an audit entry is written (port.ts AuditBy): `change` runs in one transaction,
   * `describe` says what to record of its result (null: nothing changed), and the entry is
   * inserted before the COMMIT. A crash or a failure anywhere rolls both back; a deadlock retry
   * runs both again. With `settle`, a change that may have dropped or suppressed a hash then
   * moves the 24-hour clock (privacy.settlePrivacy, last: its lock is step 7 of locks.ts), after
   * its own entry, so an erasure it completes is logged after it.
   */
  private async audited<T>(by: AuditBy, now: number, change: (c: Sql) => Promise<T>, describe: (result: T) => AuditChange | null, settle = false): Promise<T> {
    return this.db.tx(async (c) => {
      const result = await change(c);
      const entry = describe(result);
      if (entry !== null) await audit.recordAudit(c, auditEntry(by, entry), now);
      if (settle) await privacy.settlePrivacy(c, now, auditActor(by));
      return result;
    });
  }

  // privacy

  async suppressedAmong(identities: HashedIdentity[]): Promise<HashedIdentity[]> {
    return privacy.suppressedAmong(this.db, identities);
  }

  async suppress(add: HashedIdentity[], lift: HashedIdentity[], now: number, by: AuditBy): Promise<SuppressionResult> {
    return this.audited(by, now, (c) => privacy.suppress(c, add, lift, now), entries.suppressionChanged, true);
  }

  async erase(input: ErasureInput, now: number, by: AuditBy): Promise<{ erasure: Erasure; created: boolean }> {
    const result = await this.audited(by, now, (c) => privacy.erase(c, input, now), entries.erasureRequested, true);
    if (!result.created) return result;
    // Settled after its entry was written: done already when nothing was left to wait for.
    return { erasure: (await privacy.getErasure(this.db, result.erasure.id)) ?? result.erasure, created: true };
  }

  async getErasure(id: string): Promise<Erasure | null> {
    return privacy.getErasure(this.db, id);
  }

  async listErasures(limit: number): Promise<Erasure[]> {
    return privacy.listErasures(this.db, limit);
  }

  async privacySnapshot(): Promise<PrivacySnapshot> {
    return privacy.privacySnapshot(this.db);
  }

  async metricsSnapshot(): Promise<MetricsSnapshot> {
    return status.metricsSnapshot(this.db);
  }

  async ping(): Promise<void> {
    await meta.ping(this.db);
  }

  // alerts and their webhook outbox

  async watchAlerts(
    now: number,
    opts: AlertWatchOptions,
    rule: (seen: AlertObservations, previous: ReadonlyMap<string, string>) => AlertOutcome,
  ): Promise<NewWebhookEvent[]> {
    return this.db.tx((c) => webhooks.watchAlerts(c, now, opts, rule));
  }

  async claimWebhooks(owner: string, now: number, leaseMs: number, limit: number): Promise<{ event: WebhookEvent; token: string }[]> {
    const token = randomUUID();
    return this.db.tx((c) => webhooks.claimWebhooks(c, owner, now, leaseMs, limit, token));
  }

  async settleWebhook(id: string, token: string, result: WebhookResult, now: number): Promise<boolean> {
    return webhooks.settleWebhook(this.db, id, token, result, now);
  }

  async listWebhookEvents(limit: number): Promise<WebhookEvent[]> {
    return webhooks.listWebhookEvents(this.db, limit);
  }

  async nextWebhookAt(): Promise<number | null> {
    return webhooks.nextWebhookAt(this.db);
  }

  /**
   * Calls `listener` when another process (or this one) committed changes that may give workers
   * something to do (LISTEN/NOTIFY). Polling stays the backstop: a lost notification only delays
   * (by up to a second while the listener is down, worker.ts, else up to its longest idle sleep).
   */
  onWake(listener: () => void): () => void {
    return this.wake.subscribe(listener);
  }

  /** Every write that can give workers work notifies (ledger.ts, privacy.ts, NOTIFY_STRUCTURE); true while LISTEN is in place. */
  wakesListening(): boolean {
    return this.wake.isListening();
  }

  // configurations

  async putConfiguration(input: ConfigurationInput, now: number, by: AuditBy): Promise<{ configuration: Configuration; created: boolean; resumed: boolean }> {
    return this.audited(by, now, (c) => configurations.putConfiguration(c, input, now), entries.configurationPut);
  }

  async listConfigurations(): Promise<Configuration[]> {
    return configurations.listConfigurations(this.db);
  }

  async getConfiguration(id: string): Promise<Configuration | null> {
    return configurations.getConfiguration(this.db, id);
  }

  async getConfigurationByAccount(accountId: string): Promise<Configuration | null> {
    return configurations.getConfigurationByAccount(this.db, accountId);
  }

  async deleteConfiguration(id: string, now: number, by: AuditBy): Promise<'deleted' | 'not_found' | 'in_use'> {
    return this.audited(
      by,
      now,
      (c) => configurations.deleteConfiguration(c, id),
      (r) => entries.configurationDeleted(id, r),
      true, // its X audiences' ledgers are forgotten: nothing of them is waited for any more
    );
  }

  async setConfigurationState(id: string, state: ConfigurationState, reason: string | null, now: number, by: AuditBy): Promise<void> {
    await this.audited(
      by,
      now,
      (c) => configurations.setConfigurationState(c, id, state, reason, now),
      (changed) => entries.configurationState(id, state, reason, changed),
    );
  }

  // audiences and connections

  async putAudience(
    id: string,
    name: string,
    now: number,
    by: AuditBy,
    origin: AudienceOrigin = { kind: 'api' },
  ): Promise<{ audience: Audience; created: boolean; renamed: boolean; foreign?: boolean }> {
    return this.audited(
      by,
      now,
      (c) => audiences.putAudience(c, id, name, now, origin),
      (r) => entries.audiencePut(id, r),
    );
  }

  async firehoseAccess(audienceId: string, sender: FirehoseSender): Promise<FirehoseAccess> {
    return audiences.firehoseAccess(this.db, audienceId, sender);
  }

  async getAudience(id: string): Promise<Audience | null> {
    return audiences.getAudience(this.db, id);
  }

  async listAudiences(): Promise<(Audience & { members: number })[]> {
    return audiences.listAudiences(this.db);
  }

  async countMembers(audienceId: string): Promise<number> {
    return audiences.countMembers(this.db, audienceId);
  }

  async listSamples(
    audienceId: string,
    since?: number,
  ): Promise<{ downstreamId: number; at: number; members: number; audienceSize: number | null; sizedMembers: number | null }[]> {
    return status.listSamples(this.db, audienceId, since);
  }

  async listAudiencePage(query: AudienceQuery): Promise<AudiencePage> {
    return audiences.listAudiencePage(this.db, query);
  }

  async audiencesStatus(audienceIds: string[], errorsPer: number): Promise<AudiencesStatus> {
    return status.audiencesStatus(this.db, audienceIds, errorsPer);
  }

  async recordDelivery(downstreamId: number, delivery: Delivery): Promise<void> {
    await deliveries.recordDelivery(this.db, downstreamId, delivery);
  }

  async listDeliveries(audienceId: string, opts: { before?: number; limit: number; downstreamIds?: number[] }): Promise<DeliveryRow[]> {
    return deliveries.listDeliveries(this.db, audienceId, opts);
  }

  async listEvents(audienceId: string, since?: number): Promise<DownstreamEvent[]> {
    return status.listEvents(this.db, audienceId, since);
  }

  async listErrors(audienceId: string, limit: number): Promise<{ downstreamId: number; at: number; message: string }[]> {
    return status.listErrors(this.db, audienceId, limit);
  }

  async deleteAudience(id: string, now: number, by: AuditBy, opts: { force?: boolean } = {}): Promise<boolean> {
    const force = opts.force ?? false;
    const r = await this.audited(
      by,
      now,
      (c) => audiences.deleteAudience(c, id, now, force),
      (result) => entries.audienceDeleted(id, result, force),
      true, // an X audience that never reached X is forgotten with its pending changes at once
    );
    return r.deleted;
  }

  async forceDeletions(audienceId: string, now: number, by: AuditBy): Promise<number> {
    return this.audited(
      by,
      now,
      (c) => audiences.forceDeletions(c, audienceId, now),
      (n) => entries.deletionsForced(audienceId, n),
    );
  }

  async requestResync(audienceId: string, configurationId: string, now: number, by: AuditBy): Promise<number | null> {
    return this.audited(
      by,
      now,
      (c) => connections.requestResync(c, audienceId, configurationId, now),
      (n) => entries.resyncRequested(audienceId, configurationId, n),
    );
  }

  async listDeletions(): Promise<DeletionStatus[]> {
    return status.listDeletions(this.db);
  }

  async lookup(identities: { type: IdentityType; hash: string }[]): Promise<LookupRow[]> {
    return lookup(this.db, identities);
  }

  async previewMemberChanges(audienceId: string, changes: MemberChange[]): Promise<LedgerPreview> {
    return previewMemberChanges(this.db, audienceId, changes);
  }

  async putConnection(
    audienceId: string,
    configurationId: string,
    toggles: ConnectionSettings,
    now: number,
    by: AuditBy,
  ): Promise<{ connection: Connection; created: boolean; changed: boolean }> {
    const r = await this.audited(
      by,
      now,
      (c) => connections.putConnection(c, audienceId, configurationId, toggles, now),
      entries.connectionPut,
      true, // a type turned off drops its X audience's pending changes (detach keeps suppressed removes)
    );
    return { connection: r.connection, created: r.previous === null, changed: entries.connectionPut(r) !== null };
  }

  async listConnections(audienceId: string): Promise<Connection[]> {
    return connections.listConnections(this.db, audienceId);
  }

  async deleteConnection(audienceId: string, configurationId: string, now: number, by: AuditBy): Promise<boolean> {
    return this.audited(
      by,
      now,
      (c) => connections.deleteConnection(c, audienceId, configurationId, now),
      (deleted) => entries.connectionDeleted(audienceId, configurationId, deleted),
      true, // detaching drops pending changes (but suppressed removes)
    );
  }

  async listDownstreams(audienceId: string): Promise<DownstreamStatus[]> {
    return status.listDownstreams(this.db, audienceId);
  }

  // membership

  async applyMemberChanges(audienceId: string, changes: MemberChange[], now: number, rejections?: Record<string, number>): Promise<ApplyResult> {
    return this.db.tx((c) => applyMemberChanges(c, audienceId, changes, now, rejections));
  }

  async listRejections(audienceId: string): Promise<{ reason: string; count: number; lastAt: number }[]> {
    return status.listRejections(this.db, audienceId);
  }

  // sync

  async claim(opts: ClaimOptions): Promise<Claim | null> {
    return claim(this.db, opts);
  }

  async recordCreateAttempt(downstreamId: number, token: string, name: string): Promise<boolean> {
    return recordCreateAttempt(this.db, downstreamId, token, name);
  }

  async settleCreated(
    downstreamId: number,
    token: string,
    x: XAudienceState & { id: string; name: string; nameSuffix: number },
    now: number,
  ): Promise<boolean> {
    return settleCreated(this.db, downstreamId, token, x, now);
  }

  async settleRenamed(downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): Promise<boolean> {
    return this.db.tx((c) => settleRenamed(c, downstreamId, token, xName, nameSuffix, now));
  }

  async settleSent(downstreamId: number, token: string, result: SentBatch, now: number): Promise<boolean> {
    return this.db.tx(async (c) => settled(c, await settleSent(c, downstreamId, token, result, now), now));
  }

  async holdDeletion(downstreamId: number, token: string, campaigns: TargetingCampaign[], now: number, nextAttemptAt: number): Promise<boolean> {
    return this.db.tx((c) => holdDeletion(c, downstreamId, token, campaigns, now, nextAttemptAt));
  }

  async settleDeleted(downstreamId: number, token: string, now: number): Promise<boolean> {
    // The X audience is gone, and with it every suppressed hash it held.
    return this.db.tx(async (c) => settled(c, await settleDeleted(c, downstreamId, token), now));
  }

  async settleRefreshed(downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean> {
    return this.db.tx((c) => settleRefreshed(c, downstreamId, token, x, now));
  }

  async settleNotFound(downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): Promise<boolean> {
    return this.db.tx(async (c) => settled(c, await settleNotFound(c, downstreamId, token, reason, now, nameSuffix), now));
  }

  async settleRejected(downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): Promise<boolean> {
    return this.db.tx(async (c) => settled(c, await settleRejected(c, downstreamId, token, rejectedHashes, error, now), now));
  }

  async release(downstreamId: number, token: string, opts: ReleaseOptions): Promise<boolean> {
    return this.db.tx((c) => release(c, downstreamId, token, opts));
  }

  async leaseOwners(): Promise<string[]> {
    return leaseOwners(this.db);
  }

  async releaseOwner(owner: string): Promise<number> {
    return this.db.tx((c) => releaseOwner(c, owner));
  }

  async takeRateToken(key: string, now: number, perMinute: number, burst: number): Promise<number> {
    return this.db.tx((c) => takeRateToken(c, key, now, perMinute, burst));
  }

  async holdRate(key: string, until: number, now: number, perMinute: number): Promise<void> {
    await this.db.tx((c) => holdRate(c, key, until, now, perMinute));
  }

  async listAudit(opts: { beforeId?: number; limit: number }): Promise<AuditEntry[]> {
    return audit.listAudit(this.db, opts);
  }

  async pruneXData(before: number, logBefore: number): Promise<{ samples: number; downstreams: number; deliveries: number }> {
    return pruneXData(this.db, before, logBefore);
  }

  async putSession(idHash: string, expiresAt: number, now: number): Promise<void> {
    await this.db.tx((c) => sessions.putSession(c, idHash, expiresAt, now));
  }

  async getSession(idHash: string, now: number): Promise<number | null> {
    return sessions.getSession(this.db, idHash, now);
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return sessions.deleteSession(this.db, idHash);
  }

  async useOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.db.tx((c) => sessions.useOnce(c, key, expiresAt, now));
  }

  async nextDueAt(opts: { now: number; flushIntervalMs: number; refreshIntervalMs: number; renewAfterMs?: number }): Promise<number | null> {
    // Pending changes from one walk of the outbox index (due-scan.ts), renewals from the downstream
    // row: no index seek per downstream row. A renewal pass is due at the bound of the oldest
    // confirmation + renewAfterMs ($3; null: no renewals), its next step one flush interval after
    // the last (claim.ts, ../renewals.ts).
    const r = await this.db.query<{ due: number | null }>(
      `WITH RECURSIVE ${PENDING_SQL}
       SELECT MIN(GREATEST(d.next_attempt_at, COALESCE(d.lease_expires_at, 0),
         LEAST(CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 0 ELSE GREATEST(COALESCE(d.refreshed_at, 0) + $1::bigint, d.refresh_after) END,
               GREATEST(COALESCE(p.oldest + $2::bigint, 9000000000000000::bigint), ${CADENCE}),
               CASE WHEN d.resync_before IS NULL OR d.state = 'deleting' THEN 9000000000000000::bigint ELSE 0 END,
               CASE WHEN $3::bigint IS NULL OR d.state = 'deleting' OR d.x_audience_id IS NULL THEN 9000000000000000::bigint
                 ELSE GREATEST(d.renew_claimed_at + $2::bigint, ${CADENCE},
                   CASE WHEN d.renew_pass_min IS NOT NULL THEN 0 ELSE COALESCE(d.renew_bound + $3::bigint, 9000000000000000::bigint) END) END))) AS due
       FROM downstreams d JOIN configurations c ON c.id = d.configuration_id
       LEFT JOIN pending p ON p.downstream_id = d.id
       -- One that waits for its first member (../creation.ts) is due when that member comes: never by the clock.
       WHERE c.state = 'active' AND NOT ${waitingForMemberSql('d')} AND (d.state IN ${WORKED_STATES}
         -- A detached X audience counts only with removes of suppressed hashes (claim.ts): due at once.
         OR (d.state = 'detached' AND d.x_audience_id IS NOT NULL AND p.downstream_id IS NOT NULL))`,
      [opts.refreshIntervalMs, opts.flushIntervalMs, opts.renewAfterMs ?? null],
    );
    return r.rows[0]?.due ?? null;
  }
}
