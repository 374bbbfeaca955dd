import { yieldLoop } from '../../core/pace.ts';
import type Database from 'better-sqlite3';
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
  ReleaseOptions,
  SentBatch,
  Store,
  XAudienceState,
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
import { claim, claimOfMarked, continueClaim } from './claim.ts';
import { noteDue, noteEmptyClaim, quietClaim, rememberedDue } from './due-check.ts';
import * as configurations from './configurations.ts';
import * as connections from './connections.ts';
import { SqliteLedger } from './ledger.ts';
import * as meta from './meta.ts';
import { openSqlite } from './open.ts';
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
import { WriterClient } from './writer.ts';
import { at, type SliceEnd } from './slice-end.ts';

/*
 * The store on SQLite: one file, one writer at a time. This class only wires the port (port.ts)
 * to one file per operation and owns the transactions: every write runs in one IMMEDIATE
 * transaction (tx below), which takes the file's write lock up front, so the read-then-write of
 * an operation never interleaves with another writer, of this process or another. A store opened
 * on a file makes those writes in its writer thread (writer.ts, WRITER_METHODS below): the same
 * class runs there on the thread's own connection, and here only the reads run.
 *
 * The operation files are named as in ../postgres/, so a reader who knows one side finds the
 * other (test/store/file-set.test.ts keeps it so); src/store/README.md lists them. Files of this
 * side only: open.ts (opening, pragmas, migrations, checkpointing), checkpoints.ts (the checkpoint
 * worker), due-check.ts (remembered outbox counts), private-files.ts (owner-only
 * file modes), scrub.ts (secure_delete). nextDueAt stays below, next to the claim it mirrors.
 */

/** With a cadence, no change (nor renewal) is due before the window opens, but an opt-out's (../cadence.ts). */
const CADENCE = `CASE WHEN d.send_interval_ms IS NULL OR ${optOutWaitingSql('d')} THEN 0 ELSE d.next_send_at END`;
/**
 * How long one transaction of sliced work (a big request's changes, a claim's or a settle's rows)
 * holds the event loop before it commits and lets other callers run. better-sqlite3 is
 * synchronous: while a transaction runs, no request is read, answered or even accepted. A commit
 * costs a WAL fsync (a few ms), so slices much shorter than this spend their time committing.
 */
export const SLICE_MS = 12;

/**
 * The same in the writer thread (writer.ts), where a transaction holds no event loop, only the
 * calls queued behind it: a Firehose message waits at most about this long before its own commit.
 */
export const THREAD_SLICE_MS = 12;

/** How often watchAlerts reads again when another process moved the alert states between its reading and its write (the next watch tries again anyway). */
const WATCH_ATTEMPTS = 3;

/** The longest an ingest slice grows to when commits are slow (see write()). */
const MAX_SLICE_MS = 100;

/** The most changes given to the ledger at once (the rest of a slice's time goes to further parts). */
const MAX_PART = 2_000;

/**
 * The same for a bulk store (`tailor import`, OpenOptions.bulk): a part is applied table by table in
 * key order (SqliteLedger.applySorted), which pays more the larger the part.
 */
const BULK_PART = 50_000;

/**
 * In the writer thread, a part of a big call is about this long (ms): between two parts the slice
 * looks whether a call of another audience waits at the thread's door (door.ts), and if so (and it
 * has done sliceMs of work) commits what it has and lets the call in, so a Firehose message waits
 * for a short slice and a commit, not a slice grown to MAX_SLICE_MS on a slow disk.
 */
const PART_MS = 3;

/** The most turns of the loop a claim's or settle's next slice waits for member changes (afterMemberChanges). */
const MAX_WAIT_TURNS = 1_000;

interface ApplyJob {
  audienceId: string;
  changes: MemberChange[];
  now: number;
  rejections: Record<string, number> | undefined;
  /** The next change to apply; started: the call's first part (and its rejections) is in. */
  from: number;
  started: boolean;
  queued: number;
  resolve: (r: ApplyResult) => void;
  reject: (err: unknown) => void;
  /** Settles when the call is answered, either way (afterSmallCalls). */
  answered: Promise<unknown>;
}

// Errors that mean "this write could not be made durable": answered with 503, retried by senders.
const UNAVAILABLE = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_READONLY_DBMOVED']);

/**
 * What a serving store runs in its writer thread (writer.ts): every method that writes, and
 * nextDueAt, whose remembered answer (due-check.ts) belongs to the connection that claims. A write
 * missing here fails on the serving connection, which is read-only beside a writer thread.
 */
export const WRITER_METHODS = [
  'applyMemberChanges',
  'claim',
  'nextDueAt',
  'claimWebhooks',
  'settleWebhook',
  'deleteAudience',
  'deleteConfiguration',
  'deleteConnection',
  'deleteSession',
  'erase',
  'forceDeletions',
  'holdDeletion',
  'holdRate',
  'ping',
  'pruneXData',
  'putAudience',
  'putConfiguration',
  'putConnection',
  'putSession',
  'recordAlerts',
  'recordCreateAttempt',
  'recordDelivery',
  'release',
  'releaseOwner',
  'requestResync',
  'setConfigurationState',
  'settleCreated',
  'settleDeleted',
  'settleNotFound',
  'settleRefreshed',
  'settleRejected',
  'settleRenamed',
  'settleSent',
  'suppress',
  'takeRateToken',
  'useOnce',
] as const satisfies readonly (keyof SqliteStore)[];

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  private readonly ledger: SqliteLedger;
  private readonly callsWaiting: ((exceptAudience?: string) => boolean) | null;
  private readonly bulk: boolean;

  /**
   * On `db` itself (a caller that opened the file, `:memory:`, the writer thread's own store), or,
   * with `writer`, the writes in the writer thread and only the reads on `db`.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly sliceMs = SLICE_MS,
    readonly writer: WriterClient | null = null,
    mode: {
      /** The writer thread's: whether a call has been posted to it and not yet taken in, one of `exceptAudience` not counted (door.ts). */
      callsWaiting?: (exceptAudience?: string) => boolean;
      /** A bulk load's (OpenOptions.bulk): parts applied table by table in key order. */
      bulk?: boolean;
    } = {},
  ) {
    this.ledger = new SqliteLedger(db);
    this.callsWaiting = mode.callsWaiting ?? null;
    this.bulk = mode.bulk === true;
    if (writer === null) return;
    db.pragma('query_only = ON');
    const self = this as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const method of WRITER_METHODS) self[method] = (...args: unknown[]) => writer.call(method, args);
    self.applyMemberChanges = (...args: unknown[]) => writer.apply(args as Parameters<WriterClient['apply']>[0]);
  }

  /**
   * A file's store writes from a thread of its own (writer.ts), off the event loop, unless
   * `writerThread: false` (`tailor import`, which answers no requests). `:memory:` cannot be shared
   * between two connections, so it stays on one.
   */
  static open(path: string, opts: OpenOptions = {}): SqliteStore {
    const db = openSqlite(path, opts);
    if (path === ':memory:' || path === '' || opts.writerThread === false) return new SqliteStore(db, opts.sliceMs, null, { bulk: opts.bulk === true });
    return new SqliteStore(db, opts.sliceMs, new WriterClient(path, opts.sliceMs ?? THREAD_SLICE_MS));
  }

  private deadline(): number {
    return performance.now() + this.sliceMs;
  }

  /**
   * Where a slice of a claim or a settle ends. On the serving thread (no door): after sliceMs, since
   * the event loop waits. In the writer thread, the sliceMs slice goes on while no member-change
   * call waits at the door or in line, up to MAX_SLICE_MS: every slice is a commit (its WAL write and
   * fsync), and a drain with nobody waiting spent a large part of its time committing 12 ms slices.
   * A call that arrives ends the slice at its next row once sliceMs is done, as before. The calls
   * already in line cannot change while the slice runs (the thread reads no message during a
   * transaction), so they are looked at once, and each row reads only the door.
   */
  private syncSliceEnd(): SliceEnd {
    const began = performance.now();
    const short = began + this.sliceMs;
    const waiting = this.callsWaiting;
    if (waiting === null || this.smallCallsInLine().length > 0) return at(short);
    const long = began + Math.max(MAX_SLICE_MS, this.sliceMs);
    return () => {
      const t = performance.now();
      return t >= long || (t >= short && waiting());
    };
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
    // The writer's connection first: the serving one must close last, to checkpoint and remove the WAL.
    await this.writer?.close();
    this.db.close();
  }

  /**
   * The one way an audit entry is written (port.ts AuditBy): `change` runs in one IMMEDIATE
   * transaction, `describe` says what to record of its result (null: nothing changed), and the
   * entry is inserted before the commit. A crash or a failure anywhere rolls both back. With
   * `settle`, a change that may have dropped or suppressed a hash then moves the 24-hour clock
   * (privacy.settlePrivacy), after its own entry, so an erasure it completes is logged after it.
   */
  private audited<T>(by: AuditBy, now: number, change: () => T, describe: (result: T) => AuditChange | null, settle = false): T {
    return this.tx(() => {
      const result = change();
      const entry = describe(result);
      if (entry !== null) audit.recordAudit(this.db, auditEntry(by, entry), now);
      if (settle) privacy.settlePrivacy(this.db, now, auditActor(by));
      return result;
    });
  }

  /** After a write that may have removed a suppressed hash from X or the outbox: the 24-hour clock moves on. */
  private settled(ok: boolean, now: number): boolean {
    if (ok) privacy.settlePrivacy(this.db, now, 'worker');
    return ok;
  }

  // privacy

  async suppressedAmong(identities: HashedIdentity[]): Promise<HashedIdentity[]> {
    // A read, not a transaction: in pieces of ~SLICE_MS, so 300,000 lookups hold no other caller.
    const found: HashedIdentity[] = [];
    for (let from = 0; from < identities.length;) {
      const end = this.deadline();
      do {
        found.push(...privacy.suppressedAmong(this.db, identities.slice(from, from + 256)));
        from += 256;
      } while (from < identities.length && performance.now() < end);
      if (from < identities.length) await yieldLoop();
    }
    return found;
  }

  async suppress(add: HashedIdentity[], lift: HashedIdentity[], now: number, by: AuditBy): Promise<SuppressionResult> {
    return this.audited(by, now, () => privacy.suppress(this.db, add, lift, now), entries.suppressionChanged, true);
  }

  async erase(input: ErasureInput, now: number, by: AuditBy): Promise<{ erasure: Erasure; created: boolean }> {
    // Who holds the identities, read in pieces before the write lock (privacy.ts: no index by hash).
    let end = this.deadline();
    const scanned = await privacy.scanHolders(this.db, input.identities, async () => {
      if (performance.now() < end) return;
      await yieldLoop();
      end = this.deadline();
    });
    const result = this.audited(by, now, () => privacy.erase(this.db, this.ledger, input, now, scanned), entries.erasureRequested, true);
    // The erased rows were overwritten in the file (secure_delete, open.ts); their old pages may
    // still be frames of the WAL until it is checkpointed and truncated. Readers can hold that
    // back: the background checkpoints truncate it later (checkpoints.ts).
    if (!result.created) return result;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    // Settled after its entry was written: done already when nothing was left to wait for.
    return { erasure: privacy.getErasure(this.db, result.erasure.id) ?? result.erasure, created: true };
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
    this.tx(() => meta.ping(this.db));
  }

  // alerts and their webhook outbox

  async watchAlerts(
    now: number,
    opts: AlertWatchOptions,
    rule: (seen: AlertObservations, previous: ReadonlyMap<string, string>) => AlertOutcome,
  ): Promise<NewWebhookEvent[]> {
    if (this.writer === null) return this.tx(() => webhooks.watchAlerts(this.db, now, opts, rule));
    // Beside a writer thread the rule, a function, cannot be posted, and a write transaction here
    // would wait for the file's write lock with the event loop held (SQLite's busy wait is
    // synchronous: 0.6-0.8 s seen while a big request was applied). So the reading is made here,
    // in one snapshot, and the thread records the outcome only if the previous states are still
    // those read; if another process watching the file moved them meanwhile, read again.
    for (let attempt = 0; attempt < WATCH_ATTEMPTS; attempt++) {
      const { seen, previous } = this.db.transaction(() => webhooks.observeAlerts(this.db, opts))();
      const outcome = rule(seen, previous);
      if (await this.recordAlerts(now, opts.deliver, [...previous], outcome)) return outcome.events;
    }
    return [];
  }

  /** The writer thread's half of watchAlerts: false, and nothing written, when the previous states are no longer `previous`. */
  async recordAlerts(now: number, deliver: boolean, previous: [string, string][], outcome: AlertOutcome): Promise<boolean> {
    return this.tx(() => {
      if (!webhooks.alertStatesAre(this.db, new Map(previous))) return false;
      webhooks.recordAlerts(this.db, now, deliver, outcome);
      return true;
    });
  }

  async claimWebhooks(owner: string, now: number, leaseMs: number, limit: number): Promise<{ event: WebhookEvent; token: string }[]> {
    return this.tx(() => webhooks.claimWebhooks(this.db, owner, now, leaseMs, limit, randomUUID()));
  }

  async settleWebhook(id: string, token: string, result: WebhookResult, now: number): Promise<boolean> {
    return this.tx(() => webhooks.settleWebhook(this.db, id, token, result, now));
  }

  async listWebhookEvents(limit: number): Promise<WebhookEvent[]> {
    return webhooks.listWebhookEvents(this.db, limit);
  }

  async nextWebhookAt(): Promise<number | null> {
    return webhooks.nextWebhookAt(this.db);
  }

  // configurations

  async putConfiguration(input: ConfigurationInput, now: number, by: AuditBy): Promise<{ configuration: Configuration; created: boolean; resumed: boolean }> {
    return this.audited(by, now, () => configurations.putConfiguration(this.db, input, now), entries.configurationPut);
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
      () => configurations.deleteConfiguration(this.db, id),
      (r) => entries.configurationDeleted(id, r),
      true, // its X audiences' ledgers are forgotten: nothing of them is waited for any more
    );
  }

  async setConfigurationState(id: string, state: ConfigurationState, reason: string | null, now: number, by: AuditBy): Promise<void> {
    this.audited(
      by,
      now,
      () => configurations.setConfigurationState(this.db, id, state, reason, now),
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
      () => audiences.putAudience(this.db, id, name, now, origin),
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
    this.tx(() => deliveries.recordDelivery(this.db, downstreamId, delivery));
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

  async countMembers(audienceId: string): Promise<number> {
    return audiences.countMembers(this.db, audienceId);
  }

  async deleteAudience(id: string, now: number, by: AuditBy, opts: { force?: boolean } = {}): Promise<boolean> {
    const force = opts.force ?? false;
    const r = this.audited(
      by,
      now,
      () => audiences.deleteAudience(this.db, id, now, force),
      (result) => entries.audienceDeleted(id, result, force),
      true, // an X audience that never reached X is forgotten with its pending changes at once
    );
    return r.deleted;
  }

  async forceDeletions(audienceId: string, now: number, by: AuditBy): Promise<number> {
    return this.audited(
      by,
      now,
      () => audiences.forceDeletions(this.db, audienceId, now),
      (n) => entries.deletionsForced(audienceId, n),
    );
  }

  async requestResync(audienceId: string, configurationId: string, now: number, by: AuditBy): Promise<number | null> {
    return this.audited(
      by,
      now,
      () => connections.requestResync(this.db, audienceId, configurationId, now),
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
    const r = this.audited(
      by,
      now,
      () => connections.putConnection(this.db, this.ledger, audienceId, configurationId, toggles, now),
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
      () => connections.deleteConnection(this.db, audienceId, configurationId, now),
      (deleted) => entries.connectionDeleted(audienceId, configurationId, deleted),
      true, // detaching drops pending changes (but suppressed removes)
    );
  }

  async listDownstreams(audienceId: string): Promise<DownstreamStatus[]> {
    return status.listDownstreams(this.db, audienceId);
  }

  // membership

  /**
   * Sliced and grouped: every caller's changes join one queue, and a writer applies them in
   * transactions of about SLICE_MS (in the writer thread: THREAD_SLICE_MS), the loop free between them. One transaction takes from
   * as many queued calls as fit (one WAL fsync for all of them: group commit), and a big call
   * spans several, taking turns with the calls queued behind it; a call's promise resolves once its last change has committed, so a request is
   * still answered only when all of it is durable. Each change is whole in one transaction and a
   * call's rejection counts go with its first. A crash between two transactions leaves the first
   * part of a call applied and the call unanswered: its sender sends it again, and applying a
   * change twice is a no-op (the ledger's diff). A failed transaction fails every call that had
   * changes in it; their earlier parts stay (the same as a crash).
   */
  async applyMemberChanges(audienceId: string, changes: MemberChange[], now: number, rejections?: Record<string, number>): Promise<ApplyResult> {
    let resolve!: (r: ApplyResult) => void;
    let reject!: (err: unknown) => void;
    const answer = new Promise<ApplyResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const answered = answer.then(
      () => undefined,
      () => undefined,
    );
    this.applying.push({ audienceId, changes, now, rejections, from: 0, started: false, queued: 0, resolve, reject, answered });
    if (!this.writing) void this.write();
    return answer;
  }

  private readonly applying: ApplyJob[] = [];
  private writing = false;
  /** What one change has cost lately (ms), to size the next part to the time left in a slice. */
  private perChangeMs = 0.05;
  /** What a commit (its WAL fsync) has cost lately (ms). */
  private commitMs = 0;

  /**
   * A call that would hold the writer longer than a long slice (MAX_SLICE_MS) if applied whole: a
   * big REST request, an import's part. Only such calls are cut for a waiting call and take turns
   * with newcomers; cutting a Firehose message (100 profiles) for the next one only costs commits.
   */
  private isBig(job: ApplyJob): boolean {
    return job.changes.length * this.perChangeMs > MAX_SLICE_MS;
  }

  private async write(): Promise<void> {
    this.writing = true;
    try {
      while (this.applying.length > 0) {
        // Round robin for big calls only: calls that arrived since the last slice go before a big
        // call part done, so a small request waits for the slice in flight and its own commit, not
        // for a further slice of the big call. Small calls part done (a slice ended in one) keep
        // their place: among calls of about one size, first come first served gives the shortest
        // waits, and letting each newcomer go first made every Firehose message at saturation wait
        // for the ones after it (docs/benchmarks.md, session 11). Calls for the audience of a call
        // part done stay behind it: one audience's changes are applied in the order of their calls.
        const ahead = this.applying.filter((j) => j.started && !this.isBig(j));
        const busy = new Set(this.applying.filter((j) => j.started).map((j) => j.audienceId));
        const fresh = this.applying.filter((j) => !j.started && !busy.has(j.audienceId));
        if (fresh.length > 0)
          this.applying.splice(0, this.applying.length, ...ahead, ...fresh, ...this.applying.filter((j) => !fresh.includes(j) && !ahead.includes(j)));
        // A slice at least twice as long as a commit lately took: on a slow disk (a WAL fsync of
        // tens of ms) short slices would spend most of the time committing.
        const end = performance.now() + Math.min(Math.max(MAX_SLICE_MS, this.sliceMs), Math.max(this.sliceMs, 2 * this.commitMs));
        const touched = new Set<ApplyJob>();
        let worked = 0;
        const began = performance.now();
        const waiting = this.callsWaiting;
        const partMax = waiting === null ? MAX_PART : Math.min(MAX_PART, Math.max(16, Math.floor(PART_MS / this.perChangeMs)));
        try {
          this.tx(() => {
            let cut = false;
            for (const job of this.applying) {
              // Calls that just arrived (a Firehose message) commit on their own, without a slice of
              // the big call that is part done: their answer then waits for little but their fsync.
              if (job.started && touched.size > 0) break;
              while (!job.started || job.from < job.changes.length) {
                const room = Math.max(1, Math.floor((end - performance.now()) / this.perChangeMs));
                const part = job.changes.slice(job.from, job.from + Math.min(room, this.bulk ? BULK_PART : partMax));
                const t = performance.now();
                touched.add(job);
                const rejections = job.started ? undefined : job.rejections;
                job.queued += (
                  this.bulk ? this.ledger.applySorted(job.audienceId, part, job.now, rejections) : this.ledger.apply(job.audienceId, part, job.now, rejections)
                ).queued;
                job.started = true;
                job.from += part.length;
                if (part.length > 0) this.perChangeMs = 0.7 * this.perChangeMs + (0.3 * Math.max(performance.now() - t, 0.01)) / part.length;
                if (performance.now() >= end) break;
                // A call of another audience is waiting to be taken in (the writer thread's door):
                // once the slice has done a short slice's work (sliceMs), it ends here and the next
                // one takes that call first (the round robin above). Not sooner: a big call cut after every part would
                // spend its time committing. Not later either, though commits are slow: a commit's
                // cost grows with the pages the slice dirtied (docs/benchmarks.md, session 9), so a
                // longer slice only makes the waiting call's wait longer, its commit included.
                if (
                  waiting !== null &&
                  job.from < job.changes.length &&
                  performance.now() - began >= this.sliceMs &&
                  this.isBig(job) &&
                  waiting(job.audienceId)
                ) {
                  cut = true;
                  break;
                }
              }
              if (cut || performance.now() >= end) break;
            }
            worked = performance.now() - began;
          });
          this.commitMs = 0.7 * this.commitMs + 0.3 * Math.max(0, performance.now() - began - worked);
        } catch (err) {
          // A transaction that could not even begin (the file locked past busy_timeout, the disk
          // gone) fails every waiting call, with its error, rather than being retried forever.
          const failed = touched.size > 0 ? touched : new Set(this.applying);
          for (const job of failed) job.reject(err);
          this.applying.splice(0, this.applying.length, ...this.applying.filter((j) => !failed.has(j)));
          continue;
        }
        const done = this.applying.filter((j) => j.started && j.from >= j.changes.length);
        const left = this.applying.filter((j) => !done.includes(j));
        // A call that used the slice and is not done goes behind the calls it did not reach (big
        // calls of other audiences take turns with it), and calls that arrive meanwhile go before
        // both (above).
        const partial = left.filter((j) => touched.has(j));
        const held = new Set(partial.map((j) => j.audienceId));
        const first = left.filter((j) => !touched.has(j) && !held.has(j.audienceId));
        this.applying.splice(0, this.applying.length, ...first, ...left.filter((j) => !first.includes(j)));
        for (const job of done) job.resolve({ queued: job.queued });
        if (this.applying.length > 0) await yieldLoop();
      }
    } finally {
      this.writing = false;
    }
  }

  async listRejections(audienceId: string): Promise<{ reason: string; count: number; lastAt: number }[]> {
    return status.listRejections(this.db, audienceId);
  }

  // sync

  async claim(opts: ClaimOptions): Promise<Claim | null> {
    // Sliced (claim.ts): the lease and the first changes in one transaction, the rest of the
    // batch in further ones under the lease, the event loop free between them.
    // Nothing written since a claim found nothing, and nothing due yet by the clock (due-check.ts).
    if (quietClaim(this.db, opts)) return null;
    const partial = this.tx(() => claim(this.db, opts, this.syncSliceEnd()));
    if (partial === null) {
      noteEmptyClaim(this.db, opts);
      return null;
    }
    while (partial.cursor !== null) {
      await this.afterMemberChanges();
      let more: boolean;
      try {
        more = this.tx(() => continueClaim(this.db, partial, opts, this.syncSliceEnd()));
      } catch (err) {
        // The slices before committed the lease and their rows: send those (claimOfMarked).
        if (partial.rows.length === 0) throw err;
        return claimOfMarked(partial);
      }
      if (!more) {
        // Lease lost (expired and taken over) or nothing left to send: look again from the start.
        return partial.cursor === null ? this.claim(opts) : null;
      }
    }
    return partial.claim;
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
    // Sliced (settle-sent.ts): each slice its own transaction, the event loop free between them.
    const total = result.sent.length + (result.renewed?.length ?? 0);
    let next = 0;
    for (;;) {
      const from = next;
      const done = this.tx(() => {
        const d = settleSent(this.db, downstreamId, token, result, now, from, this.syncSliceEnd());
        // The last slice: a suppressed hash may have left X, so the 24-hour clock moves on with it.
        if (d !== false && d >= total) privacy.settlePrivacy(this.db, now, 'worker');
        return d;
      });
      if (done === false) return false;
      if (done >= total) return true;
      next = done;
      await this.afterMemberChanges();
    }
  }

  /**
   * Between two slices of a claim or a settle: the loop given back, and in the writer thread, a
   * member-change call waiting at the door or next in line (a Firehose message) committed first, so
   * that it waits for one transaction in flight rather than for a slice of every sliced call too.
   * Never for long: the write loop starts such a call in its next transaction, and a call held behind
   * its own audience's big one is not next in line.
   */
  private async afterMemberChanges(): Promise<void> {
    await yieldLoop();
    if (this.callsWaiting === null) return;
    for (let turns = 0; turns < MAX_WAIT_TURNS && (this.callsWaiting() || this.smallCallsInLine().length > 0); turns++) await yieldLoop();
  }

  /**
   * The queued calls that are not big and not held behind a part-done big call of their audience
   * (write()'s order): those the next slices apply soon. A small call held behind a big one waits
   * for all of it, which beside a saturating Firehose can take a minute.
   */
  private smallCallsInLine(): ApplyJob[] {
    const held = new Set(this.applying.filter((j) => j.started && this.isBig(j)).map((j) => j.audienceId));
    return this.applying.filter((j) => !this.isBig(j) && (j.started || !held.has(j.audienceId)));
  }

  /**
   * For the writer thread's sync-loop calls (writer-thread.ts BEHIND): resolves after a turn of the
   * loop, once the small calls in line by then are answered. Those taken in with the sync call, or
   * before it, go first; later ones, big calls and calls held behind big ones do not hold it, so a
   * sync loop never starves behind a saturating Firehose or a big request.
   */
  async afterSmallCalls(): Promise<void> {
    await yieldLoop();
    const small = this.smallCallsInLine();
    if (small.length > 0) await Promise.all(small.map((j) => j.answered));
  }

  async holdDeletion(downstreamId: number, token: string, campaigns: TargetingCampaign[], now: number, nextAttemptAt: number): Promise<boolean> {
    return this.tx(() => holdDeletion(this.db, downstreamId, token, campaigns, now, nextAttemptAt));
  }

  async settleDeleted(downstreamId: number, token: string, now: number): Promise<boolean> {
    // The X audience is gone, and with it every suppressed hash it held.
    return this.tx(() => this.settled(settleDeleted(this.db, downstreamId, token), now));
  }

  async settleRefreshed(downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean> {
    return this.tx(() => settleRefreshed(this.db, downstreamId, token, x, now));
  }

  async settleNotFound(downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): Promise<boolean> {
    return this.tx(() => this.settled(settleNotFound(this.db, downstreamId, token, reason, now, nameSuffix), now));
  }

  async release(downstreamId: number, token: string, opts: ReleaseOptions): Promise<boolean> {
    return this.tx(() => release(this.db, downstreamId, token, opts));
  }

  async settleRejected(downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): Promise<boolean> {
    return this.tx(() => this.settled(settleRejected(this.db, downstreamId, token, rejectedHashes, error, now), now));
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

  async listAudit(opts: { beforeId?: number; limit: number }): Promise<AuditEntry[]> {
    return audit.listAudit(this.db, opts);
  }

  async pruneXData(before: number, logBefore: number): Promise<{ samples: number; downstreams: number; deliveries: number }> {
    return this.tx(() => pruneXData(this.db, before, logBefore));
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
    const remembered = rememberedDue(this.db, opts);
    if (remembered !== undefined) return remembered;
    const due = this.readNextDue(opts);
    noteDue(this.db, opts, due);
    return due;
  }

  private readNextDue(opts: { flushIntervalMs: number; refreshIntervalMs: number; renewAfterMs?: number }): number | null {
    // A renewal pass is due at the bound of its oldest confirmation + renewAfterMs, its next step
    // one flush interval after the last (claim.ts, ../renewals.ts).
    const renew =
      opts.renewAfterMs === undefined
        ? '9e15'
        : `CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 9e15 ELSE MAX(d.renew_claimed_at + @flush,
                 CASE WHEN d.renew_pass_min IS NOT NULL THEN 0 ELSE COALESCE(d.renew_bound + @renew, 9e15) END) END`;
    const row = this.db
      .prepare(
        `SELECT MIN(due) FROM (
           SELECT MAX(d.next_attempt_at, COALESCE(d.lease_expires_at, 0),
             MIN(CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 0 ELSE MAX(COALESCE(d.refreshed_at, 0) + @refresh, d.refresh_after) END,
                 MAX(COALESCE((SELECT MIN(enqueued_at) FROM outbox o WHERE o.downstream_id = d.id) + @flush, 9e15), ${CADENCE}),
                 CASE WHEN d.resync_before IS NULL OR d.state = 'deleting' THEN 9e15 ELSE 0 END,
                 MAX(${renew}, ${CADENCE}))) AS due
           FROM downstreams d JOIN configurations c ON c.id = d.configuration_id
           -- One that waits for its first member (../creation.ts) is due when that member comes: never by the clock.
           WHERE c.state = 'active' AND d.state IN ${WORKED_STATES} AND NOT ${waitingForMemberSql('d')}
           UNION ALL
           -- A detached X audience with removes of suppressed hashes (claim.ts): due at once.
           SELECT MAX(d.next_attempt_at, COALESCE(d.lease_expires_at, 0)) FROM downstreams d JOIN configurations c ON c.id = d.configuration_id
           WHERE c.state = 'active' AND d.state = 'detached' AND d.x_audience_id IS NOT NULL AND EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id))`,
      )
      .pluck()
      .get({ refresh: opts.refreshIntervalMs, flush: opts.flushIntervalMs, ...(opts.renewAfterMs === undefined ? {} : { renew: opts.renewAfterMs }) }) as
      number | null;
    return row;
  }
}
