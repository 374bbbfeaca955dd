/**
 * The store port: everything Tailor keeps, split by the role of its callers. The sync engine sees
 * `QueueStore`, ingest `LedgerStore`, the REST API and the UI `CatalogStore`, `StatusStore`,
 * `SessionStore`, `PrivacyStore` and `AuditStore`; the alert loop `AlertStore`; the retention loop `RetentionStore`; `Store`, all of them, is for the composition root and the adapters (sqlite/ and
 * postgres/ implement it). Every method is a single transaction: it either happens whole or not at all.
 *
 * Every method that changes a configuration, audience, connection, suppression or erasure takes
 * an `AuditBy` (who asks) and writes its audit entry in that same transaction (audit-entries.ts
 * says what each records): there is no other way to write one, so no change commits without its
 * entry and no entry records a change that did not commit.
 *
 * Claims follow one rule: a worker leases one downstream audience (owner, token, expiry), does
 * the X work, and settles with the token. A settle whose token no longer matches (the lease
 * expired and another worker took it) changes nothing and returns false.
 */
import type { Actor, ChangeOp, ConfigurationState, DownstreamEventKind, DownstreamState, IdentityType } from '../core/terms.ts';

export interface Configuration {
  id: string;
  name: string;
  accountId: string;
  accountName: string | null;
  xUserId: string | null;
  screenName: string | null;
  /** Encrypted OAuth tokens (secret-box); never decrypted by the store. */
  tokens: string;
  state: ConfigurationState;
  stateReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ConfigurationInput {
  name: string;
  accountId: string;
  accountName: string | null;
  xUserId: string | null;
  screenName: string | null;
  tokens: string;
}

/**
 * Who sent a Firehose message: its mParticle account (`firehoseAccountKey` in
 * sources/firehose/origin.ts) and the configuration its Account ID setting selected.
 */
export interface FirehoseSender {
  account: string;
  configurationId: string;
}

/**
 * Where an audience came from. `firehose` audiences carry the mParticle account of the message
 * that created them; audiences from before migration 0006 that were classified as Firehose ones
 * carry none (see that migration).
 */
export type AudienceOrigin = { kind: 'api' } | ({ kind: 'firehose' } & FirehoseSender);

export interface Audience {
  id: string;
  name: string;
  origin: 'api' | 'firehose';
  originAccount: string | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * Whether a Firehose message may act on an audience: `unknown` (no such audience), `owned` (a
 * Firehose audience created for the sender's mParticle account, or one classified by migration
 * 0006, which has no account, connected to the sender's configuration) or `foreign` (a REST or
 * import audience, or another mParticle account's).
 */
export type FirehoseAccess = 'unknown' | 'owned' | 'foreign';

export interface ConnectionToggles {
  forwardEmails: boolean;
  forwardTwitterHandles: boolean;
  forwardDeviceIds: boolean;
  /** Off unless asked for: turning it on starts sending a new kind of personal data (issue 15). */
  forwardPhoneNumbers: boolean;
}

/** A connection's settings: the toggles, and its cadence (left out: unchanged; null: near real time). */
export interface ConnectionSettings extends ConnectionToggles {
  sendIntervalMinutes?: number | null;
}

export interface Connection extends ConnectionToggles {
  audienceId: string;
  /** Null: near real time (TAILOR_FLUSH_INTERVAL_MS); else adds and removes go at most once per interval. */
  sendIntervalMinutes: number | null;
  configurationId: string;
  createdAt: number;
  updatedAt: number;
}

export interface Downstream {
  id: number;
  audienceId: string;
  configurationId: string;
  identityType: IdentityType;
  state: DownstreamState;
  xAudienceId: string | null;
  /** The name the audience has on X, once created. */
  xName: string | null;
  /** 1 for `<name> (email)`, 2 for `<name> (email) [2]`, … after X refused a used name. */
  nameSuffix: number;
  sentAdds: number;
  sentRemoves: number;
  rejected: number;
  /** Hashes sent again before X's expiry ran out (renewals), never counted in sentAdds. */
  renewed: number;
  /** Hashes X holds according to the ledger. */
  members: number;
  audienceSize: number | null;
  targetable: boolean | null;
  reasonsNotTargetable: string[];
  lastSyncedAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  attempts: number;
  nextAttemptAt: number;
  refreshedAt: number | null;
  /** Since when X has answered PROCESSING (the last size and targetability it reported stay); null when not. */
  processingSince: number | null;
  /** When X last reported a size (or TOO_SMALL), and the members on X (confirmed) at that moment. */
  sizedAt: number | null;
  sizedMembers: number | null;
  /** The X audience id X lost (deleted on X), re-created since under a new id, and when. */
  previousXAudienceId: string | null;
  recreatedAt: number | null;
  /** The connection's cadence in ms (null: near real time) and, with one, the earliest next send of changes. */
  sendIntervalMs: number | null;
  nextSendAt: number;
  /** A resync asked for: every hash X confirmed before `before` is sent again. Null when none runs. */
  resyncBefore: number | null;
  resyncTotal: number;
  /** Delete on X even when active campaigns target it. */
  deleteForce: boolean;
  /** The campaigns with active line items holding this X audience's deletion back, or null. */
  deleteBlockedBy: TargetingCampaign[] | null;
}

/** A campaign that targets an X audience, with its active line items (X's `targeted`, section 2.8). */
export interface TargetingCampaign {
  campaignId: string;
  campaignName: string | null;
  lineItems: { id: string; name: string | null; servable: boolean | null }[];
}

export interface DownstreamStatus extends Downstream {
  /** Changes queued for X: adds plus removes. */
  pending: number;
  pendingAdds: number;
  pendingRemoves: number;
  /** When the oldest waiting change was queued; null when none waits. */
  oldestPendingAt: number | null;
  /** Hashes a batch touched whose answer was never settled: neither assumed present nor absent. */
  uncertain: number;
  /**
   * What X should hold (the audience ledger, for this identity type): the confirmed members, plus
   * pending adds of hashes not confirmed, minus pending removes of confirmed ones.
   */
  target: number;
  /** While a resync runs: X's members when it was asked for, less those it sent again (hashes that left meanwhile are never sent). */
  resyncRemaining: number | null;
}

/** What the ledgers hold of one identity, per audience and X audience (`lookup`). */
export interface LookupRow {
  audienceId: string;
  audienceName: string;
  identityType: IdentityType;
  hash: string;
  /** Members of the audience holding it (0: none, but an X audience still has it or a removal waits). */
  holders: number;
  /** Whether the identity is on the suppression list (PrivacyStore): kept off X whatever the ledgers hold. */
  suppressed: boolean;
  /** The X audience side, or null when the audience has no X audience of that type. */
  downstream: {
    id: number;
    configurationId: string;
    state: DownstreamState;
    xAudienceId: string | null;
    /** The X ledger: confirmed, uncertain, or not held. */
    onX: 'confirmed' | 'uncertain' | null;
    /** When X last confirmed an Update of it. */
    confirmedAt: number | null;
    pending: ChangeOp | null;
  } | null;
  /** Whether the audience's connections forward this identity type to the configuration (null: not connected). */
  forwarding: boolean | null;
}

/** What applying member changes would do, per identity type, without writing (dry runs). */
export type LedgerPreview = Partial<Record<IdentityType, { add: number; remove: number; alreadyPresent: number; xAdd: number; xRemove: number }>>;

/** An X audience waiting to be deleted (its audience was deleted). */
export interface DeletionStatus {
  downstreamId: number;
  audienceId: string;
  configurationId: string;
  identityType: IdentityType;
  xAudienceId: string | null;
  xName: string | null;
  force: boolean;
  blockedBy: TargetingCampaign[] | null;
  nextAttemptAt: number;
  lastError: string | null;
}

/** One `users` call to X, as the delivery log keeps it (no hash, no identifier). */
export interface Delivery {
  at: number;
  adds: number;
  removes: number;
  bytes: number;
  /** X's HTTP status; null when no answer came (timeout, dropped connection). */
  status: number | null;
  successCount: number | null;
  totalCount: number | null;
  durationMs: number;
  error: string | null;
}

export interface DeliveryRow extends Delivery {
  id: number;
  downstreamId: number;
}

/** GET /api/v1/audiences: one page of audiences, searched, filtered and sorted in the database. */
export interface AudienceQuery {
  /** Case-insensitive substring of the name or the id (ASCII case folding on both dialects). */
  q?: string;
  /** attention: an X audience paused, failing, being re-created or not targetable; ok: none of that. */
  state?: 'attention' | 'ok';
  sort: AudienceSort;
  limit: number;
  /** The sort key and id of the last audience of the previous page. */
  after?: { key: string | number; id: string };
}

export type AudienceSort = 'name' | '-name' | 'members' | '-members' | 'updated' | '-updated' | 'created' | '-created';
export const AUDIENCE_SORTS = ['name', '-name', 'members', '-members', 'updated', '-updated', 'created', '-created'] as const satisfies readonly AudienceSort[];

export interface AudiencePage {
  /** Each with its sort key (the next page's cursor starts after the last one's). */
  audiences: (Audience & { members: number; sortKey: string | number })[];
  more: boolean;
  /** Audiences needing attention in the whole list, whatever the query. */
  attention: number;
}

/** Everything a page of audience views needs beyond the audiences, read in a constant number of queries. */
export interface AudiencesStatus {
  connections: Connection[];
  downstreams: DownstreamStatus[];
  /** The newest errors per downstream audience (at most `errorsPer` each), newest first. */
  errors: { downstreamId: number; at: number; message: string }[];
  rejections: { audienceId: string; reason: string; count: number; lastAt: number }[];
}

/** One member's change, already normalized and hashed. */
export interface MemberChange {
  /** mpid, REST user_id, or `<type>:<hash>` when the member has neither. */
  memberKey: string;
  action: 'add' | 'remove';
  /** For `add`: the member's full current identities in this audience. Ignored for `remove`. */
  identities: { type: IdentityType; hash: string }[];
}

export interface ApplyResult {
  /** Changes queued for X across all downstream audiences (after coalescing). */
  queued: number;
}

/** What a claimed downstream audience needs next, in the order the worker checks. */
export type Task = 'delete' | 'create' | 'rename' | 'send' | 'refresh';

export interface Claim {
  task: Task;
  leaseToken: string;
  downstream: Downstream;
  audienceName: string | null;
  configuration: Configuration;
  /** For `send`: the changes under this lease, at most the requested number. */
  changes: { hash: string; op: ChangeOp }[];
  /**
   * For `send`: hashes X holds whose last confirmation is older than `renewAfterMs`, to be sent
   * again as adds (an Update refreshes X's expiry). Never a hash with a pending change.
   */
  renewals: string[];
  /** For `create`: the name a previous attempt used, if one may have reached X. */
  createAttemptName: string | null;
  /**
   * For `send` during a resync: the renewals are the resync's, and this is the last of them in
   * hash order; settling the batch passes it back (`SentBatch.resyncCursor`) to move the resync on.
   */
  resyncCursor?: string;
  /**
   * For `send`: when the oldest claimed change was first enqueued (acknowledged), epoch ms; the
   * sync latency metric measures from it. Optional: a store that does not report it gets no
   * latency observations.
   */
  oldestEnqueuedAt?: number;
}

export interface ClaimOptions {
  owner: string;
  now: number;
  leaseMs: number;
  /** A batch is due once its oldest change has waited this long ... */
  flushIntervalMs: number;
  /** ... or once this many changes are pending (a full request). */
  fullBatch: number;
  /** Most changes returned in one claim. */
  maxChanges: number;
  /**
   * Optional, per identity type: replaces both `fullBatch` and `maxChanges` for downstream audiences
   * of that type (a request holds more e-mail users than device-id users). A store that ignores it
   * uses the two numbers above, which the worker sets for the longest type.
   */
  maxChangesByType?: Partial<Record<IdentityType, number>>;
  /** Refresh X's size and targetability when older than this. */
  refreshIntervalMs: number;
  /**
   * Renew a hash X confirmed longer ago than this (TAILOR_RENEW_AFTER_DAYS). Without it, no
   * renewals are claimed. Renewals top up a batch to its size, at most one renewal step per
   * downstream audience per flush interval.
   */
  renewAfterMs?: number;
}

export interface ReleaseOptions {
  /** No task of this downstream audience is claimed before then. */
  nextAttemptAt: number;
  /** Shown as the last error (and kept in the recent errors) when not null. */
  error: string | null;
  /** Counts toward the backoff of the audience's batches. */
  countAttempt: boolean;
  now: number;
  /** A failed read of X's size: no refresh before then, while batches go on as usual. */
  refreshAfter?: number;
}

export interface SentBatch {
  /** The claimed changes as sent. */
  sent: { hash: string; op: ChangeOp }[];
  /** The claim's renewals as sent (X confirms them like adds). */
  renewed?: string[];
  /** Hashes X refused item by item (recorded and dropped). */
  rejectedHashes: string[];
  /** The claim's `resyncCursor`, when it had one: the resync goes on after it. */
  resyncCursor?: string;
}

/** What X reports about an audience's size and targetability. */
export interface XAudienceState {
  audienceSize: number | null;
  targetable: boolean;
  reasonsNotTargetable: string[];
}

/** What `GET /metrics` reads from the store at each scrape: cheap aggregate queries only. */
export interface MetricsSnapshot {
  /** Every downstream audience not being deleted, with its outbox size and oldest change. */
  pending: { audienceId: string; configurationId: string; identityType: IdentityType; count: number; oldestEnqueuedAt: number | null }[];
  configurationsNeedingReauth: number;
}

/**
 * What `src/sync/` needs: the claim, its settles and release, lease recovery, the shared rate
 * buckets and the wake-ups. Pausing a configuration belongs here too: a worker pauses one when X
 * no longer accepts its tokens, and claims then skip its downstream audiences.
 */
export interface QueueStore {
  /**
   * Optional: calls `listener` when another process committed changes that may give sync workers
   * work (PostgreSQL: LISTEN/NOTIFY). Returns the unsubscribe. Without it (SQLite, one process),
   * workers rely on in-process notify and polling; with it, polling stays the backstop.
   */
  onWake?(listener: () => void): () => void;
  /**
   * Optional: true while onWake's listeners hear every commit, of any process, that can give sync
   * workers work (every such write notifies, and the listening connection is up). Idle workers
   * then sleep until nextDueAt rather than poll every second.
   */
  wakesListening?(): boolean;

  // claim, then exactly one settle or release with the lease token
  claim(opts: ClaimOptions): Promise<Claim | null>;
  /** Records the name about to be created, before the X call, so a crash can find it again. */
  recordCreateAttempt(downstreamId: number, token: string, name: string): Promise<boolean>;
  settleCreated(downstreamId: number, token: string, x: XAudienceState & { id: string; name: string; nameSuffix: number }, now: number): Promise<boolean>;
  settleRenamed(downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): Promise<boolean>;
  /**
   * The batch reached X: record what X now holds (from `sent`, not from the outbox rows, which a
   * newer change may already have overwritten), drop the claimed rows, update counters.
   */
  settleSent(downstreamId: number, token: string, result: SentBatch, now: number): Promise<boolean>;
  settleDeleted(downstreamId: number, token: string, now: number): Promise<boolean>;
  settleRefreshed(downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean>;
  /**
   * X lost the audience: forget its id and X ledger, queue every current member again. The
   * re-creation starts at `nameSuffix` when given (the worker passes the next one when the name
   * about to be tried is the lost audience's own, which X never gives out again).
   */
  settleNotFound(downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): Promise<boolean>;
  /**
   * X refused some claimed changes item by item: drop those (counted as rejected, with the error
   * shown), give the lease back, and leave the other claimed changes pending for the next batch.
   */
  settleRejected(downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): Promise<boolean>;
  /** Gives the lease back without settling; the claimed changes stay pending. */
  release(downstreamId: number, token: string, opts: ReleaseOptions): Promise<boolean>;
  /** Owners currently holding leases (for the sweep of owners known to be dead). */
  leaseOwners(): Promise<string[]>;
  /** Frees every lease of an owner known to be dead; its claimed changes stay pending. */
  releaseOwner(owner: string): Promise<number>;
  /**
   * Logs one `users` call (the delivery log). Written whatever the lease: it records what was sent
   * to X. Old entries go with the retention pass (RetentionStore.pruneXData).
   */
  recordDelivery(downstreamId: number, delivery: Delivery): Promise<void>;
  /** Takes one request from a shared token bucket; returns 0 when granted, else ms to wait. */
  takeRateToken(key: string, now: number, perMinute: number, burst: number): Promise<number>;
  /** Empties a token bucket until `until` (X answered 429 with that reset time). */
  holdRate(key: string, until: number, now: number, perMinute: number): Promise<void>;
  /** Earliest moment something may become due (for idle workers), or null when nothing waits. */
  nextDueAt(opts: Pick<ClaimOptions, 'now' | 'flushIntervalMs' | 'refreshIntervalMs' | 'renewAfterMs'>): Promise<number | null>;
  /**
   * Active campaigns target the X audience being deleted: keep it (state `deleting`), record which
   * campaigns, give the lease back, and look again at `nextAttemptAt`, unless forced before then.
   */
  holdDeletion(downstreamId: number, token: string, campaigns: TargetingCampaign[], now: number, nextAttemptAt: number): Promise<boolean>;
  /** Pauses (or resumes) a configuration; claims skip the downstream audiences of one not `active`. Audited when the state changes. */
  setConfigurationState(id: string, state: ConfigurationState, reason: string | null, now: number, by: AuditBy): Promise<void>;
}

/**
 * What ingest (REST members, Firehose, CSV import) writes: member changes into the ledger, the
 * outbox changes they cause (the rule is membership/diff.ts), and the identifiers dropped on the way.
 */
export interface LedgerStore {
  /**
   * Applies member changes and counts identifiers dropped at ingest, by reason; resolves once all
   * of them are durable. PostgreSQL: one transaction. SQLite: transactions of about 12 ms, shared
   * with concurrent calls, so a big call never holds the event loop (a crash between them leaves
   * a prefix applied; the caller has not answered, and re-applying is a no-op).
   */
  applyMemberChanges(audienceId: string, changes: MemberChange[], now: number, rejections?: Record<string, number>): Promise<ApplyResult>;
  /** What applyMemberChanges would do with `changes` (the same rule, diff.ts), read only: a dry run writes nothing. */
  previewMemberChanges(audienceId: string, changes: MemberChange[]): Promise<LedgerPreview>;
  /** Those of `identities` on the suppression list (PrivacyStore): ingest drops their adds. */
  suppressedAmong(identities: HashedIdentity[]): Promise<HashedIdentity[]>;
}

/** An identity as the ledger holds it: its X type and its SHA-256 (64 lower-case hex). */
export interface HashedIdentity {
  type: IdentityType;
  hash: string;
}

export interface SuppressionResult {
  /** Identities newly put on the list (already listed ones are not counted). */
  added: number;
  /** Identities taken off the list (re-consent). */
  lifted: number;
  /** Changes queued for X: removes for those added, adds where the ledger still holds those lifted. */
  queued: number;
}

export interface ErasureInput {
  /** Same key, same erasure: the request is recorded once (idempotency). */
  requestKey: string;
  source: 'api' | 'firehose';
  /** Member keys to erase (a REST user id's key), in every audience. */
  memberKeys: string[];
  /** Identities given: every member holding one is erased, in every audience. */
  identities: HashedIdentity[];
}

export interface Erasure {
  id: string;
  source: 'api' | 'firehose';
  /** `done` once X acknowledged the removal of every hash the erasure found. */
  state: 'pending' | 'done';
  receivedAt: number;
  completedAt: number | null;
  membersErased: number;
  /** X audiences that held (or were about to receive) one of the hashes when the erasure was recorded. */
  xAudiences: number;
}

/** The 24-hour clock: what `GET /metrics`, the status page and the UI read. */
export interface PrivacySnapshot {
  pendingErasures: number;
  oldestPendingErasureAt: number | null;
  /** Suppressed hashes some X audience may still hold (removal not yet acknowledged). */
  pendingSuppressions: number;
  oldestPendingSuppressionAt: number | null;
  /** Configurations needing re-authorization that hold removals of suppressed hashes back. */
  reauthBlocking: { configurationId: string; name: string }[];
}

/**
 * The suppression list and erasures (docs/privacy.md). Every method is one transaction. Reads
 * never settle anything: every write that can settle a suppression or finish an erasure (the
 * settles, the claim's dropped no-ops, the operations that drop pending changes or forget an X
 * ledger, `suppress` and `erase` themselves) does it in its own transaction, so an erasure is
 * `done`, with its `completedAt`, the moment X acknowledged its last removal.
 * Suppressed hashes are kept out of X by three guards: ingest drops adds of them
 * (`suppressedAmong`), `suppress` queues their removal wherever X may hold them, and the claim
 * turns any add of one still in the outbox into a remove (or drops it), so no race sends one.
 */
export interface PrivacyStore {
  /** Adds to and lifts from the suppression list; lifts after adds. */
  suppress(add: HashedIdentity[], lift: HashedIdentity[], now: number, by: AuditBy): Promise<SuppressionResult>;
  /**
   * Erases every member, in every audience, holding one of the identities or one of the member
   * keys (all of its identities go), suppresses every identity found and records the erasure.
   * The same request key again changes nothing and returns the first erasure.
   */
  erase(input: ErasureInput, now: number, by: AuditBy): Promise<{ erasure: Erasure; created: boolean }>;
  getErasure(id: string): Promise<Erasure | null>;
  /** Pending erasures oldest first, then the most recent done ones, at most `limit`. */
  listErasures(limit: number): Promise<Erasure[]>;
  privacySnapshot(): Promise<PrivacySnapshot>;
}

/** Configurations, audiences and connections: what the REST API, the Firehose and the UI manage. */
export interface CatalogStore {
  // configurations
  /** Adds, or re-authorizes the account's configuration (new tokens resume it: `resumed` when it was paused). */
  putConfiguration(input: ConfigurationInput, now: number, by: AuditBy): Promise<{ configuration: Configuration; created: boolean; resumed: boolean }>;
  listConfigurations(): Promise<Configuration[]>;
  getConfiguration(id: string): Promise<Configuration | null>;
  getConfigurationByAccount(accountId: string): Promise<Configuration | null>;
  /** Refused (returns 'in_use') while connections use it. */
  deleteConfiguration(id: string, now: number, by: AuditBy): Promise<'deleted' | 'not_found' | 'in_use'>;

  // audiences and connections
  /**
   * Creates (with `origin`, `api` when left out) or renames. With a `firehose` origin an existing
   * audience that sender may not act on (FirehoseAccess) is left alone and `foreign` is true,
   * checked in the same transaction as the write.
   */
  putAudience(
    id: string,
    name: string,
    now: number,
    by: AuditBy,
    origin?: AudienceOrigin,
  ): Promise<{ audience: Audience; created: boolean; renamed: boolean; foreign?: boolean }>;
  /** See FirehoseAccess: one read, for the Firehose handlers. */
  firehoseAccess(audienceId: string, sender: FirehoseSender): Promise<FirehoseAccess>;
  getAudience(id: string): Promise<Audience | null>;
  listAudiences(): Promise<(Audience & { members: number })[]>;
  /**
   * One page of audiences (AudienceQuery), one query; `limit + 1` rows are read so the caller
   * knows whether another page follows. `attention` counts every audience needing attention.
   */
  listAudiencePage(query: AudienceQuery): Promise<AudiencePage>;
  /**
   * Deletes the audience, its members and connections; its downstream audiences go to `deleting`
   * (with `force`, deleted on X even when active campaigns target them).
   */
  deleteAudience(id: string, now: number, by: AuditBy, opts?: { force?: boolean }): Promise<boolean>;
  /** Confirms the waiting deletions of a deleted audience's X audiences despite their campaigns; returns how many. */
  forceDeletions(audienceId: string, now: number, by: AuditBy): Promise<number>;
  /** Creates or changes a connection; `changed`: some setting differs from before (false for the same settings again). */
  putConnection(
    audienceId: string,
    configurationId: string,
    settings: ConnectionSettings,
    now: number,
    by: AuditBy,
  ): Promise<{ connection: Connection; created: boolean; changed: boolean }>;
  /**
   * Starts a resync of the connection's X audiences that exist on X: every hash X holds is sent
   * again as an Update. Returns the X audiences it starts on, or null when there is no connection.
   */
  requestResync(audienceId: string, configurationId: string, now: number, by: AuditBy): Promise<number | null>;
  listConnections(audienceId: string): Promise<Connection[]>;
  /** Stops forwarding; the downstream audiences stay on X, detached. */
  deleteConnection(audienceId: string, configurationId: string, now: number, by: AuditBy): Promise<boolean>;
}

/** One event of a downstream audience (migration 0018), for its status chart. */
export interface DownstreamEvent {
  downstreamId: number;
  at: number;
  kind: DownstreamEventKind;
  /** recreated: the X id X lost; renamed: the new name on X; else null. */
  detail: string | null;
}

/** The reads behind the status page, `GET /metrics` and `/readyz`: nothing here writes but `ping`. */
export interface StatusStore {
  /** A cheap read and write check, for /readyz. */
  ping(): Promise<void>;
  /**
   * Optional: the figures `GET /metrics` reads at scrape. Without it, only the configurations
   * gauge is exported (from listConfigurations) and pending changes are not.
   */
  metricsSnapshot?(): Promise<MetricsSnapshot>;
  listDownstreams(audienceId: string): Promise<DownstreamStatus[]>;
  /** The connections, downstream audiences, recent errors and rejections of several audiences, in a fixed number of queries. */
  audiencesStatus(audienceIds: string[], errorsPer: number): Promise<AudiencesStatus>;
  /**
   * The delivery log of an audience's downstream audiences (only `downstreamIds` when given),
   * newest first, entries with id below `before` when given.
   */
  listDeliveries(audienceId: string, opts: { before?: number; limit: number; downstreamIds?: number[] }): Promise<DeliveryRow[]>;
  countMembers(audienceId: string): Promise<number>;
  /** Members sent and X's size over time, per downstream audience, oldest first (recorded at each refresh). */
  listSamples(
    audienceId: string,
    since?: number,
  ): Promise<{ downstreamId: number; at: number; members: number; audienceSize: number | null; sizedMembers: number | null }[]>;
  /** What happened to the audience's downstream audiences (pauses, re-creations, renames), oldest first; only after `since` when given. */
  listEvents(audienceId: string, since?: number): Promise<DownstreamEvent[]>;
  /** The most recent errors of the audience's downstream audiences, newest first. */
  listErrors(audienceId: string, limit: number): Promise<{ downstreamId: number; at: number; message: string }[]>;
  /** X audiences of deleted audiences still waiting to be deleted on X. */
  listDeletions(): Promise<DeletionStatus[]>;
  /** Where each identity is held, in every audience and X audience (reads only; hashes in, never raw values). */
  lookup(identities: { type: IdentityType; hash: string }[]): Promise<LookupRow[]>;
  /** Identifiers dropped at ingest (LedgerStore), by reason. */
  listRejections(audienceId: string): Promise<{ reason: string; count: number; lastAt: number }[]>;
}

/**
 * Web UI sessions and single-use steps (src/server/session.ts). Keys are keyed hashes computed by
 * the caller: the store never sees a session id, a cookie or an X token.
 */
export interface SessionStore {
  /** Records a session until `expiresAt`, and prunes expired sessions. */
  putSession(idHash: string, expiresAt: number, now: number): Promise<void>;
  /** The session's expiry, or null when it is unknown, ended or expired at `now`. */
  getSession(idHash: string, now: number): Promise<number | null>;
  /** Ends a session (sign-out). False when there was none. */
  deleteSession(idHash: string): Promise<boolean>;
  /**
   * True the first time `key` is used, false on every later use until `expiresAt`, across every
   * process on the database. After that the key is forgotten (expired keys are pruned here), so
   * `expiresAt` must be no earlier than the moment the caller stops accepting the step anyway.
   */
  useOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
}

/** Who made a change the audit log records (src/http/actor.ts tells HTTP callers apart). */
export type AuditActor = Actor;
export type AuditObjectType = 'configuration' | 'audience' | 'connection' | 'suppression' | 'erasure';
/** Small facts about a change (toggles, counts, a state); never an identity or a token. */
export type AuditDetails = Record<string, string | number | boolean | null>;

/**
 * Who asks for an audited change: the actor alone, or with facts only the caller knows (how many
 * identities of the request it could not hash), added to the entry's details.
 */
export type AuditBy = AuditActor | { actor: AuditActor; details: AuditDetails };

/** One change as the audit log records it: object ids and counts only, never a raw identity. */
export interface AuditEntryInput {
  actor: AuditActor;
  /** `<object type>.<verb>`, e.g. `audience.created`, `connection.updated`. */
  action: string;
  objectType: AuditObjectType;
  objectId: string | null;
  audienceId?: string | null;
  configurationId?: string | null;
  details?: AuditDetails;
}

export interface AuditEntry extends Required<Omit<AuditEntryInput, 'details'>> {
  id: number;
  at: number;
  details: AuditDetails | null;
}

/**
 * The audit log (append-only: the tables refuse UPDATE and DELETE). Entries are written only by
 * the audited operations, each in its own transaction (AuditBy above); `GET /api/v1/audit` and
 * the UI read them, newest first.
 */
export interface AuditStore {
  /** Newest first, at most `limit` entries, only those with an id below `beforeId` when given. */
  listAudit(opts: { beforeId?: number; limit: number }): Promise<AuditEntry[]>;
}

/**
 * The retention of X's data (TAILOR_X_DATA_RETENTION_DAYS, src/sync/retention.ts): sizes and
 * targetability X reported, and their history, received before `before` are deleted.
 */
export interface RetentionStore {
  /**
   * Deletes samples taken before `before`, clears X's figures on downstream audiences last refreshed
   * before it, and deletes the delivery log's calls (with X's answers) made before `logBefore`.
   */
  pruneXData(before: number, logBefore: number): Promise<{ samples: number; downstreams: number; deliveries: number }>;
}

/** One subject as the alert watch sees it now (src/alerts/rule.ts compares it with what it saw before). */
export interface AlertObservations {
  configurations: { id: string; name: string; accountId: string; state: ConfigurationState; stateReason: string | null }[];
  /** Every downstream audience not being deleted. */
  downstreams: {
    id: number;
    audienceId: string;
    audienceName: string;
    configurationId: string;
    identityType: IdentityType;
    xAudienceId: string | null;
    audienceSize: number | null;
    /** Failed attempts in a row (0 once a task succeeds). */
    attempts: number;
    lastError: string | null;
  }[];
  /** Pending erasures received before the watch's `erasuresOverdueBefore`, oldest first. */
  overdueErasures: { id: string; requestedAt: number }[];
}

/** What one look of the alert watch needs besides the rule. */
export interface AlertWatchOptions {
  /** Record the events `pending` (a webhook is configured) or `unsent`. */
  deliver: boolean;
  /** Pending erasures received before this (epoch ms) are overdue: the rule's `overdueErasures`. */
  erasuresOverdueBefore: number;
}

/** An event to record: its body is the JSON delivered as it is (and signed). */
export interface NewWebhookEvent {
  id: string;
  type: string;
  occurredAt: number;
  body: string;
}

/** What the alert rule decides: the subjects' new states (null forgets one) and the events they raise. */
export interface AlertOutcome {
  states: { subject: string; state: string | null }[];
  events: NewWebhookEvent[];
}

export type WebhookDelivery = 'pending' | 'delivered' | 'unsent';

export interface WebhookEvent extends NewWebhookEvent {
  delivery: WebhookDelivery;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

export interface WebhookResult {
  delivered: boolean;
  /** The receiver's HTTP status, or null when none came (refused, timed out). */
  status: number | null;
  error: string | null;
  /** When not delivered: the next attempt's time. */
  nextAttemptAt: number;
}

/**
 * Alerts (src/alerts/): the watch that turns state transitions into events, and the durable
 * outbox that delivers them. Each method is one transaction; `watchAlerts` runs under a lock
 * every process shares, so a transition raises its event once however many processes watch.
 */
export interface AlertStore {
  /**
   * Reads the observations and the previous states, calls `rule` (pure), and writes its states and
   * events (`pending` when `opts.deliver`, else `unsent`) in the same transaction. Returns the events.
   */
  watchAlerts(
    now: number,
    opts: AlertWatchOptions,
    rule: (seen: AlertObservations, previous: ReadonlyMap<string, string>) => AlertOutcome,
  ): Promise<NewWebhookEvent[]>;
  /** Leases up to `limit` pending events that are due, oldest first. */
  claimWebhooks(owner: string, now: number, leaseMs: number, limit: number): Promise<{ event: WebhookEvent; token: string }[]>;
  /** Records one delivery attempt under the lease; false (nothing changed) when the lease was lost. */
  settleWebhook(id: string, token: string, result: WebhookResult, now: number): Promise<boolean>;
  /** The newest events first, with their delivery. */
  listWebhookEvents(limit: number): Promise<WebhookEvent[]>;
  /** When the next pending event is due (or its lease ends), or null when none is pending. */
  nextWebhookAt(): Promise<number | null>;
}

/**
 * The whole store: every role, plus what only its owner does (open, identify, close). Only the
 * composition root (app.ts, the CLI commands that open a store) and the adapters see this type;
 * every other caller names the role it uses.
 */
export interface Store extends QueueStore, LedgerStore, CatalogStore, StatusStore, SessionStore, AuditStore, RetentionStore, AlertStore, PrivacyStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Random id of this database, written into every X audience's description marker. */
  installationId(): Promise<string>;
  close(): Promise<void>;
}
