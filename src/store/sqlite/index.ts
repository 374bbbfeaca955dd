import type Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../core/errors.ts';
import type { ConfigurationState, IdentityType } from '../../core/terms.ts';
import type {
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
  DownstreamStatus,
  FirehoseAccess,
  FirehoseSender,
  MemberChange,
  MetricsSnapshot,
  ReleaseOptions,
  SentBatch,
  Store,
  XAudienceState,
} from '../port.ts';
import type { OpenOptions } from '../open-options.ts';
import { WORKED_STATES } from '../states.ts';
import * as audiences from './audiences.ts';
import { claim } from './claim.ts';
import * as configurations from './configurations.ts';
import * as connections from './connections.ts';
import { SqliteLedger } from './ledger.ts';
import * as meta from './meta.ts';
import { openSqlite } from './open.ts';
import { holdRate, takeRateToken } from './rate.ts';
import { release } from './release.ts';
import { leaseOwners, releaseOwner } from './release-owner.ts';
import * as sessions from './sessions.ts';
import { recordCreateAttempt, settleCreated } from './settle-created.ts';
import { holdDeletion } from './settle-delete-held.ts';
import { settleDeleted } from './settle-deleted.ts';
import { lookup } from './lookup.ts';
import { previewMemberChanges } from './preview.ts';
import { settleNotFound } from './settle-not-found.ts';
import { settleRefreshed } from './settle-refreshed.ts';
import { settleRejected } from './settle-rejected.ts';
import { settleRenamed } from './settle-renamed.ts';
import { settleSent } from './settle-sent.ts';
import * as status from './status.ts';

/*
 * The store on SQLite: one file, one writer at a time. This class only wires the port (port.ts)
 * to one file per operation and owns the transactions: every write runs in one IMMEDIATE
 * transaction (tx below), which takes the file's write lock up front, so the read-then-write of
 * an operation never interleaves with another writer, of this process or another.
 *
 * The operation files are named as in ../postgres/, so a reader who knows one side finds the
 * other (test/store/file-set.test.ts keeps it so); src/store/README.md lists them. Files of this
 * side only: open.ts (opening, pragmas, migrations, checkpointing), checkpoints.ts (the checkpoint
 * worker), due-check.ts (remembered outbox counts), private-files.ts (owner-only
 * file modes), scrub.ts (secure_delete). nextDueAt stays below, next to the claim it mirrors.
 */

/** With a cadence, no change (nor renewal) is due before the window opens (../cadence.ts). */
const CADENCE = 'CASE WHEN d.send_interval_ms IS NULL THEN 0 ELSE d.next_send_at END';

// Errors that mean "this write could not be made durable": answered with 503, retried by senders.
const UNAVAILABLE = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_READONLY_DBMOVED']);

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  private readonly ledger: SqliteLedger;

  constructor(private readonly db: Database.Database) {
    this.ledger = new SqliteLedger(db);
  }

  static open(path: string, opts: OpenOptions = {}): SqliteStore {
    return new SqliteStore(openSqlite(path, opts));
  }

  /** Runs fn in one IMMEDIATE transaction; storage failures become StoreUnavailableError. */
  private tx<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (UNAVAILABLE.has(code) || code.startsWith('SQLITE_IOERR')) throw new StoreUnavailableError(`database write failed (${code})`, { cause: err });
      throw err;
    }
  }

  async installationId(): Promise<string> {
    return meta.installationId(this.db);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async metricsSnapshot(): Promise<MetricsSnapshot> {
    return status.metricsSnapshot(this.db);
  }

  async ping(): Promise<void> {
    this.tx(() => meta.ping(this.db));
  }

  // configurations

  async putConfiguration(input: ConfigurationInput, now: number): Promise<{ configuration: Configuration; created: boolean }> {
    return this.tx(() => configurations.putConfiguration(this.db, input, now));
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

  async deleteConfiguration(id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
    return this.tx(() => configurations.deleteConfiguration(this.db, id));
  }

  async setConfigurationState(id: string, state: ConfigurationState, reason: string | null, now: number): Promise<void> {
    this.tx(() => configurations.setConfigurationState(this.db, id, state, reason, now));
  }

  // audiences and connections

  async putAudience(
    id: string,
    name: string,
    now: number,
    origin: AudienceOrigin = { kind: 'api' },
  ): Promise<{ audience: Audience; created: boolean; renamed: boolean; foreign?: boolean }> {
    return this.tx(() => audiences.putAudience(this.db, id, name, now, origin));
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

  async listSamples(audienceId: string): Promise<{ downstreamId: number; at: number; members: number; audienceSize: number | null }[]> {
    return status.listSamples(this.db, audienceId);
  }

  async listErrors(audienceId: string, limit: number): Promise<{ downstreamId: number; at: number; message: string }[]> {
    return status.listErrors(this.db, audienceId, limit);
  }

  async countMembers(audienceId: string): Promise<number> {
    return audiences.countMembers(this.db, audienceId);
  }

  async deleteAudience(id: string, now: number, opts: { force?: boolean } = {}): Promise<boolean> {
    return this.tx(() => audiences.deleteAudience(this.db, id, now, opts.force ?? false));
  }

  async forceDeletions(audienceId: string, now: number): Promise<number> {
    return this.tx(() => audiences.forceDeletions(this.db, audienceId, now));
  }

  async requestResync(audienceId: string, configurationId: string, now: number): Promise<number | null> {
    return this.tx(() => connections.requestResync(this.db, audienceId, configurationId, now));
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
  ): Promise<{ connection: Connection; created: boolean }> {
    return this.tx(() => connections.putConnection(this.db, this.ledger, audienceId, configurationId, toggles, now));
  }

  async listConnections(audienceId: string): Promise<Connection[]> {
    return connections.listConnections(this.db, audienceId);
  }

  async deleteConnection(audienceId: string, configurationId: string, now: number): Promise<boolean> {
    return this.tx(() => connections.deleteConnection(this.db, audienceId, configurationId, now));
  }

  async listDownstreams(audienceId: string): Promise<DownstreamStatus[]> {
    return status.listDownstreams(this.db, audienceId);
  }

  // membership

  async applyMemberChanges(audienceId: string, changes: MemberChange[], now: number, rejections?: Record<string, number>): Promise<ApplyResult> {
    return this.tx(() => this.ledger.apply(audienceId, changes, now, rejections));
  }

  async listRejections(audienceId: string): Promise<{ reason: string; count: number; lastAt: number }[]> {
    return status.listRejections(this.db, audienceId);
  }

  // sync

  async claim(opts: ClaimOptions): Promise<Claim | null> {
    return this.tx(() => claim(this.db, opts));
  }

  async recordCreateAttempt(downstreamId: number, token: string, name: string): Promise<boolean> {
    return this.tx(() => recordCreateAttempt(this.db, downstreamId, token, name));
  }

  async settleCreated(
    downstreamId: number,
    token: string,
    x: XAudienceState & { id: string; name: string; nameSuffix: number },
    now: number,
  ): Promise<boolean> {
    return this.tx(() => settleCreated(this.db, downstreamId, token, x, now));
  }

  async settleRenamed(downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): Promise<boolean> {
    return this.tx(() => settleRenamed(this.db, downstreamId, token, xName, nameSuffix, now));
  }

  async settleSent(downstreamId: number, token: string, result: SentBatch, now: number): Promise<boolean> {
    return this.tx(() => settleSent(this.db, downstreamId, token, result, now));
  }

  async holdDeletion(downstreamId: number, token: string, campaigns: TargetingCampaign[], now: number, nextAttemptAt: number): Promise<boolean> {
    return this.tx(() => holdDeletion(this.db, downstreamId, token, campaigns, now, nextAttemptAt));
  }

  async settleDeleted(downstreamId: number, token: string): Promise<boolean> {
    return this.tx(() => settleDeleted(this.db, downstreamId, token));
  }

  async settleRefreshed(downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean> {
    return this.tx(() => settleRefreshed(this.db, downstreamId, token, x, now));
  }

  async settleNotFound(downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): Promise<boolean> {
    return this.tx(() => settleNotFound(this.db, downstreamId, token, reason, now, nameSuffix));
  }

  async release(downstreamId: number, token: string, opts: ReleaseOptions): Promise<boolean> {
    return this.tx(() => release(this.db, downstreamId, token, opts));
  }

  async settleRejected(downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): Promise<boolean> {
    return this.tx(() => settleRejected(this.db, downstreamId, token, rejectedHashes, error, now));
  }

  async holdRate(key: string, until: number, now: number, perMinute: number): Promise<void> {
    this.tx(() => holdRate(this.db, key, until, now, perMinute));
  }

  async leaseOwners(): Promise<string[]> {
    return leaseOwners(this.db);
  }

  async releaseOwner(owner: string): Promise<number> {
    return this.tx(() => releaseOwner(this.db, owner));
  }

  async takeRateToken(key: string, now: number, perMinute: number, burst: number): Promise<number> {
    return this.tx(() => takeRateToken(this.db, key, now, perMinute, burst));
  }

  async putSession(idHash: string, expiresAt: number, now: number): Promise<void> {
    this.tx(() => sessions.putSession(this.db, idHash, expiresAt, now));
  }

  async getSession(idHash: string, now: number): Promise<number | null> {
    return sessions.getSession(this.db, idHash, now);
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return this.tx(() => sessions.deleteSession(this.db, idHash));
  }

  async useOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.tx(() => sessions.useOnce(this.db, key, expiresAt, now));
  }

  async nextDueAt(opts: { now: number; flushIntervalMs: number; refreshIntervalMs: number; renewAfterMs?: number }): Promise<number | null> {
    // A renewal is due at its oldest confirmation + renewAfterMs, and no sooner than one flush
    // interval after the last renewal step (claim.ts).
    const renew =
      opts.renewAfterMs === undefined
        ? '9e15'
        : `CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 9e15 ELSE MAX(d.renew_claimed_at + @flush,
                 COALESCE((SELECT MIN(x.confirmed_at) FROM x_members x WHERE x.downstream_id = d.id AND x.confirmed = 1) + @renew, 9e15)) END`;
    const row = this.db
      .prepare(
        `SELECT MIN(due) FROM (
           SELECT MAX(d.next_attempt_at, COALESCE(d.lease_expires_at, 0),
             MIN(CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 0 ELSE MAX(COALESCE(d.refreshed_at, 0) + @refresh, d.refresh_after) END,
                 MAX(COALESCE((SELECT MIN(enqueued_at) FROM outbox o WHERE o.downstream_id = d.id) + @flush, 9e15), ${CADENCE}),
                 CASE WHEN d.resync_before IS NULL OR d.state = 'deleting' THEN 9e15 ELSE 0 END,
                 MAX(${renew}, ${CADENCE}))) AS due
           FROM downstreams d JOIN configurations c ON c.id = d.configuration_id
           WHERE c.state = 'active' AND d.state IN ${WORKED_STATES})`,
      )
      .pluck()
      .get({ refresh: opts.refreshIntervalMs, flush: opts.flushIntervalMs, ...(opts.renewAfterMs === undefined ? {} : { renew: opts.renewAfterMs }) }) as
      number | null;
    return row;
  }
}
