import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { IDENTITY_TYPES, type ConfigurationState, type IdentityType } from '../../core/terms.ts';
import { StoreUnavailableError } from '../../core/errors.ts';
import type {
  ApplyResult,
  Audience,
  AudienceOrigin,
  Claim,
  ClaimOptions,
  Configuration,
  ConfigurationInput,
  Connection,
  ConnectionToggles,
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
import { openSqlite } from './open.ts';
import { firehoseAccessSql } from '../origin.ts';
import { toAudience, toConfiguration, toConnection, toDownstream, type AudienceRow, type ConfigurationRow, type ConnectionRow, type DownstreamRow } from '../rows.ts';
import { WORKED_STATES } from '../states.ts';
import { SqliteLedger } from './ledger.ts';
import { claim } from './claim.ts';
import * as sessions from './sessions.ts';
import { holdRate, holds, recordSample, release, settleNotFound, settleRejected, settleSent, takeRateToken } from './settle.ts';

const FIREHOSE_ACCESS_SQL = firehoseAccessSql('@audience', '@account', '@configuration');

// Errors that mean "this write could not be made durable": answered with 503, retried by senders.
const UNAVAILABLE = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_READONLY_DBMOVED']);

function toggleFor(t: ConnectionToggles, type: IdentityType): boolean {
  return type === 'email' ? t.forwardEmails : type === 'handle' ? t.forwardTwitterHandles : t.forwardDeviceIds;
}

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
    return this.db.prepare("SELECT value FROM meta WHERE key = 'installation_id'").pluck().get() as string;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async metricsSnapshot(): Promise<MetricsSnapshot> {
    // One pass over the outbox's (downstream_id, enqueued_at) index; no table rows are read.
    const pending = this.db
      .prepare(
        `SELECT d.audience_id AS audienceId, d.configuration_id AS configurationId, d.identity_type AS identityType,
           COUNT(o.hash) AS count, MIN(o.enqueued_at) AS oldestEnqueuedAt
         FROM downstreams d LEFT JOIN outbox o ON o.downstream_id = d.id
         WHERE d.state <> 'deleting' GROUP BY d.id`,
      )
      .all() as MetricsSnapshot['pending'];
    const configurationsNeedingReauth = this.db.prepare("SELECT COUNT(*) FROM configurations WHERE state = 'needs_reauth'").pluck().get() as number;
    return { pending, configurationsNeedingReauth };
  }

  async ping(): Promise<void> {
    this.tx(() => this.db.prepare("INSERT INTO meta (key, value) VALUES ('ping', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(Date.now())));
  }

  // configurations

  async putConfiguration(input: ConfigurationInput, now: number): Promise<{ configuration: Configuration; created: boolean }> {
    return this.tx(() => {
      const existing = this.db.prepare('SELECT id FROM configurations WHERE account_id = ?').pluck().get(input.accountId) as string | undefined;
      if (existing) {
        // New tokens for a known account: this is a re-authorization, and it resumes the account.
        this.db
          .prepare(
            `UPDATE configurations SET name = ?, account_name = ?, x_user_id = ?, screen_name = ?, tokens = ?,
               state = 'active', state_reason = NULL, updated_at = ? WHERE id = ?`,
          )
          .run(input.name, input.accountName, input.xUserId, input.screenName, input.tokens, now, existing);
        return { configuration: this.configurationRow(existing), created: false };
      }
      const id = randomUUID();
      this.db
        .prepare(
          `INSERT INTO configurations (id, name, account_id, account_name, x_user_id, screen_name, tokens, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
        )
        .run(id, input.name, input.accountId, input.accountName, input.xUserId, input.screenName, input.tokens, now, now);
      return { configuration: this.configurationRow(id), created: true };
    });
  }

  private configurationRow(id: string): Configuration {
    return toConfiguration(this.db.prepare('SELECT * FROM configurations WHERE id = ?').get(id) as ConfigurationRow);
  }

  async listConfigurations(): Promise<Configuration[]> {
    return (this.db.prepare('SELECT * FROM configurations ORDER BY created_at, id').all() as ConfigurationRow[]).map(toConfiguration);
  }

  async getConfiguration(id: string): Promise<Configuration | null> {
    const row = this.db.prepare('SELECT * FROM configurations WHERE id = ?').get(id) as ConfigurationRow | undefined;
    return row ? toConfiguration(row) : null;
  }

  async getConfigurationByAccount(accountId: string): Promise<Configuration | null> {
    const row = this.db.prepare('SELECT * FROM configurations WHERE account_id = ?').get(accountId) as ConfigurationRow | undefined;
    return row ? toConfiguration(row) : null;
  }

  async deleteConfiguration(id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
    return this.tx(() => {
      if (!this.db.prepare('SELECT 1 FROM configurations WHERE id = ?').get(id)) return 'not_found';
      const inUse = this.db
        .prepare("SELECT EXISTS (SELECT 1 FROM connections WHERE configuration_id = ?) OR EXISTS (SELECT 1 FROM downstreams WHERE configuration_id = ? AND state = 'deleting')")
        .pluck()
        .get(id, id) as number;
      if (inUse) return 'in_use';
      // Detached downstream audiences stay on X; Tailor only forgets them.
      const ids = this.db.prepare('SELECT id FROM downstreams WHERE configuration_id = ?').pluck().all(id) as number[];
      for (const d of ids) this.forgetDownstream(d);
      this.db.prepare('DELETE FROM configurations WHERE id = ?').run(id);
      return 'deleted';
    });
  }

  private forgetDownstream(id: number): void {
    this.db.prepare('DELETE FROM outbox WHERE downstream_id = ?').run(id);
    this.db.prepare('DELETE FROM x_members WHERE downstream_id = ?').run(id);
    this.db.prepare('DELETE FROM samples WHERE downstream_id = ?').run(id);
    this.db.prepare('DELETE FROM downstream_errors WHERE downstream_id = ?').run(id);
    this.db.prepare('DELETE FROM downstreams WHERE id = ?').run(id);
  }

  async setConfigurationState(id: string, state: ConfigurationState, reason: string | null, now: number): Promise<void> {
    this.tx(() => this.db.prepare('UPDATE configurations SET state = ?, state_reason = ?, updated_at = ? WHERE id = ?').run(state, reason, now, id));
  }

  // audiences and connections

  async putAudience(id: string, name: string, now: number, origin: AudienceOrigin = { kind: 'api' }): Promise<{ audience: Audience; created: boolean; renamed: boolean; foreign?: boolean }> {
    return this.tx(() => {
      const row = this.db.prepare('SELECT * FROM audiences WHERE id = ?').get(id) as AudienceRow | undefined;
      if (!row) {
        const account = origin.kind === 'firehose' ? origin.account : null;
        this.db.prepare('INSERT INTO audiences (id, name, origin, origin_account, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, name, origin.kind, account, now, now);
        return { audience: { id, name, origin: origin.kind, originAccount: account, createdAt: now, updatedAt: now }, created: true, renamed: false };
      }
      if (origin.kind === 'firehose' && this.accessOf(id, origin) !== 'owned') return { audience: toAudience(row), created: false, renamed: false, foreign: true };
      if (row.name === name) return { audience: toAudience(row), created: false, renamed: false };
      // The claim query compares each downstream's X name with the audience's: a rename follows.
      this.db.prepare('UPDATE audiences SET name = ?, updated_at = ? WHERE id = ?').run(name, now, id);
      return { audience: { ...toAudience(row), name, updatedAt: now }, created: false, renamed: true };
    });
  }

  async firehoseAccess(audienceId: string, sender: FirehoseSender): Promise<FirehoseAccess> {
    return this.accessOf(audienceId, sender);
  }

  /** The rule of FirehoseAccess (port.ts), as one query; the PostgreSQL store runs the same SQL. */
  private accessOf(audienceId: string, sender: FirehoseSender): FirehoseAccess {
    const row = this.db.prepare(FIREHOSE_ACCESS_SQL).get({ audience: audienceId, account: sender.account, configuration: sender.configurationId }) as { owned: number } | undefined;
    if (!row) return 'unknown';
    return row.owned ? 'owned' : 'foreign';
  }

  async getAudience(id: string): Promise<Audience | null> {
    const row = this.db.prepare('SELECT * FROM audiences WHERE id = ?').get(id) as AudienceRow | undefined;
    return row ? toAudience(row) : null;
  }

  async listAudiences(): Promise<(Audience & { members: number })[]> {
    const rows = this.db
      .prepare('SELECT a.*, a.member_count AS members FROM audiences a ORDER BY a.created_at, a.id')
      .all() as (AudienceRow & { members: number })[];
    return rows.map((r) => ({ ...toAudience(r), members: r.members }));
  }

  async listSamples(audienceId: string): Promise<{ downstreamId: number; at: number; members: number; audienceSize: number | null }[]> {
    return this.db
      .prepare(
        `SELECT s.downstream_id AS downstreamId, s.at, s.members, s.audience_size AS audienceSize FROM samples s
         JOIN downstreams d ON d.id = s.downstream_id WHERE d.audience_id = ? ORDER BY s.at`,
      )
      .all(audienceId) as { downstreamId: number; at: number; members: number; audienceSize: number | null }[];
  }

  async listErrors(audienceId: string, limit: number): Promise<{ downstreamId: number; at: number; message: string }[]> {
    return this.db
      .prepare(
        `SELECT e.downstream_id AS downstreamId, e.at, e.message FROM downstream_errors e
         JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = ? ORDER BY e.id DESC LIMIT ?`,
      )
      .all(audienceId, limit) as { downstreamId: number; at: number; message: string }[];
  }

  async countMembers(audienceId: string): Promise<number> {
    return (this.db.prepare('SELECT member_count FROM audiences WHERE id = ?').pluck().get(audienceId) as number | undefined) ?? 0;
  }

  async deleteAudience(id: string, now: number): Promise<boolean> {
    return this.tx(() => {
      if (!this.db.prepare('SELECT 1 FROM audiences WHERE id = ?').get(id)) return false;
      const rows = this.db.prepare("SELECT id, x_audience_id, create_attempt_name FROM downstreams WHERE audience_id = ? AND state <> 'deleting'").all(id) as {
        id: number;
        x_audience_id: string | null;
        create_attempt_name: string | null;
      }[];
      for (const d of rows) {
        if (d.x_audience_id === null && d.create_attempt_name === null) {
          this.forgetDownstream(d.id); // never reached X
          continue;
        }
        this.db.prepare('DELETE FROM outbox WHERE downstream_id = ?').run(d.id);
        this.db.prepare("UPDATE downstreams SET state = 'deleting', next_attempt_at = 0, attempts = 0, updated_at = ? WHERE id = ?").run(now, d.id);
      }
      this.db.prepare('DELETE FROM members WHERE audience_id = ?').run(id);
      this.db.prepare('DELETE FROM rejections WHERE audience_id = ?').run(id);
      this.db.prepare('DELETE FROM connections WHERE audience_id = ?').run(id);
      this.db.prepare('DELETE FROM audiences WHERE id = ?').run(id);
      return true;
    });
  }

  async putConnection(audienceId: string, configurationId: string, toggles: ConnectionToggles, now: number): Promise<{ connection: Connection; created: boolean }> {
    return this.tx(() => {
      const existing = this.db.prepare('SELECT 1 FROM connections WHERE audience_id = ? AND configuration_id = ?').get(audienceId, configurationId);
      this.db
        .prepare(
          `INSERT INTO connections (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (audience_id, configuration_id) DO UPDATE SET forward_emails = excluded.forward_emails,
             forward_handles = excluded.forward_handles, forward_device_ids = excluded.forward_device_ids, updated_at = excluded.updated_at`,
        )
        .run(audienceId, configurationId, +toggles.forwardEmails, +toggles.forwardTwitterHandles, +toggles.forwardDeviceIds, now, now);
      for (const type of IDENTITY_TYPES) this.applyToggle(audienceId, configurationId, type, toggleFor(toggles, type), now);
      const row = this.db.prepare('SELECT * FROM connections WHERE audience_id = ? AND configuration_id = ?').get(audienceId, configurationId) as ConnectionRow;
      return { connection: toConnection(row), created: !existing };
    });
  }

  private applyToggle(audienceId: string, configurationId: string, type: IdentityType, on: boolean, now: number): void {
    const row = this.db
      .prepare("SELECT id, state, x_audience_id FROM downstreams WHERE audience_id = ? AND configuration_id = ? AND identity_type = ? AND state <> 'deleting'")
      .get(audienceId, configurationId, type) as { id: number; state: string; x_audience_id: string | null } | undefined;
    if (on && !row) {
      const id = this.db
        .prepare("INSERT INTO downstreams (audience_id, configuration_id, identity_type, state, created_at, updated_at) VALUES (?, ?, ?, 'creating', ?, ?)")
        .run(audienceId, configurationId, type, now, now).lastInsertRowid as number;
      this.ledger.resync(id, audienceId, type, now);
    } else if (on && row?.state === 'detached') {
      this.db.prepare('UPDATE downstreams SET state = ?, next_attempt_at = 0, updated_at = ? WHERE id = ?').run(row.x_audience_id ? 'active' : 'creating', now, row.id);
      this.ledger.resync(row.id, audienceId, type, now);
    } else if (!on && row && row.state !== 'detached') {
      this.detach(row.id, now);
    }
  }

  private detach(downstreamId: number, now: number): void {
    this.db.prepare('DELETE FROM outbox WHERE downstream_id = ?').run(downstreamId);
    this.db.prepare("UPDATE downstreams SET state = 'detached', updated_at = ? WHERE id = ?").run(now, downstreamId);
  }

  async listConnections(audienceId: string): Promise<Connection[]> {
    return (this.db.prepare('SELECT * FROM connections WHERE audience_id = ? ORDER BY created_at').all(audienceId) as ConnectionRow[]).map(toConnection);
  }

  async deleteConnection(audienceId: string, configurationId: string, now: number): Promise<boolean> {
    return this.tx(() => {
      const deleted = this.db.prepare('DELETE FROM connections WHERE audience_id = ? AND configuration_id = ?').run(audienceId, configurationId).changes > 0;
      if (!deleted) return false;
      const ids = this.db
        .prepare("SELECT id FROM downstreams WHERE audience_id = ? AND configuration_id = ? AND state NOT IN ('deleting', 'detached')")
        .pluck()
        .all(audienceId, configurationId) as number[];
      for (const id of ids) this.detach(id, now);
      return true;
    });
  }

  async listDownstreams(audienceId: string): Promise<DownstreamStatus[]> {
    const rows = this.db
      .prepare(
        `SELECT d.*, (SELECT COUNT(*) FROM outbox o WHERE o.downstream_id = d.id) AS pending FROM downstreams d
         WHERE d.audience_id = ? ORDER BY d.configuration_id, CASE d.identity_type WHEN 'email' THEN 0 WHEN 'handle' THEN 1 ELSE 2 END, d.id`,
      )
      .all(audienceId) as (DownstreamRow & { pending: number })[];
    return rows.map((r) => ({ ...toDownstream(r), pending: r.pending }));
  }

  // membership

  async applyMemberChanges(audienceId: string, changes: MemberChange[], now: number, rejections?: Record<string, number>): Promise<ApplyResult> {
    return this.tx(() => this.ledger.apply(audienceId, changes, now, rejections));
  }

  async listRejections(audienceId: string): Promise<{ reason: string; count: number; lastAt: number }[]> {
    return this.db.prepare('SELECT reason, count, last_at AS lastAt FROM rejections WHERE audience_id = ? ORDER BY count DESC').all(audienceId) as {
      reason: string;
      count: number;
      lastAt: number;
    }[];
  }

  // sync

  async claim(opts: ClaimOptions): Promise<Claim | null> {
    return this.tx(() => claim(this.db, opts));
  }

  async recordCreateAttempt(downstreamId: number, token: string, name: string): Promise<boolean> {
    return this.tx(() => this.db.prepare('UPDATE downstreams SET create_attempt_name = ? WHERE id = ? AND lease_token = ?').run(name, downstreamId, token).changes > 0);
  }

  async settleCreated(downstreamId: number, token: string, x: XAudienceState & { id: string; name: string; nameSuffix: number }, now: number): Promise<boolean> {
    // A re-created audience stays 'recreating' until its refill has been sent (settleSent).
    return this.tx(
      () =>
        this.db
          .prepare(
            `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, x_audience_id = ?, x_name = ?, name_suffix = ?,
               state = CASE WHEN state = 'creating' THEN 'active' ELSE state END, audience_size = ?, targetable = ?,
               reasons_not_targetable = ?, refreshed_at = ?, attempts = 0, next_attempt_at = 0, updated_at = ?
             WHERE id = ? AND lease_token = ?`,
          )
          .run(x.id, x.name, x.nameSuffix, x.audienceSize, +x.targetable, JSON.stringify(x.reasonsNotTargetable), now, now, downstreamId, token).changes > 0,
    );
  }

  async settleRenamed(downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): Promise<boolean> {
    return this.tx(
      () =>
        this.db
          .prepare(
            `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, x_name = ?, name_suffix = ?,
               attempts = 0, next_attempt_at = 0, updated_at = ? WHERE id = ? AND lease_token = ?`,
          )
          .run(xName, nameSuffix, now, downstreamId, token).changes > 0,
    );
  }

  async settleSent(downstreamId: number, token: string, result: SentBatch, now: number): Promise<boolean> {
    return this.tx(() => settleSent(this.db, downstreamId, token, result, now));
  }

  async settleDeleted(downstreamId: number, token: string): Promise<boolean> {
    return this.tx(() => {
      if (!holds(this.db, downstreamId, token)) return false;
      this.forgetDownstream(downstreamId);
      return true;
    });
  }

  async settleRefreshed(downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean> {
    return this.tx(() => {
      const settled =
        this.db
          .prepare(
            `UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, audience_size = ?, targetable = ?,
               reasons_not_targetable = ?, refreshed_at = ?, attempts = 0, next_attempt_at = 0, updated_at = ? WHERE id = ? AND lease_token = ?`,
          )
          .run(x.audienceSize, +x.targetable, JSON.stringify(x.reasonsNotTargetable), now, now, downstreamId, token).changes > 0;
      if (settled) recordSample(this.db, downstreamId, now);
      return settled;
    });
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
    return this.db.prepare('SELECT DISTINCT lease_owner FROM downstreams WHERE lease_token IS NOT NULL AND lease_owner IS NOT NULL').pluck().all() as string[];
  }

  async releaseOwner(owner: string): Promise<number> {
    return this.tx(() => {
      const ids = this.db.prepare('SELECT id FROM downstreams WHERE lease_owner = ? AND lease_token IS NOT NULL').pluck().all(owner) as number[];
      for (const id of ids) {
        this.db.prepare('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ?').run(id);
        this.db.prepare('UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?').run(id);
      }
      return ids.length;
    });
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
    const renew = opts.renewAfterMs === undefined ? '9e15' : `CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 9e15 ELSE MAX(d.renew_claimed_at + @flush,
                 COALESCE((SELECT MIN(x.confirmed_at) FROM x_members x WHERE x.downstream_id = d.id AND x.confirmed = 1) + @renew, 9e15)) END`;
    const row = this.db
      .prepare(
        `SELECT MIN(due) FROM (
           SELECT MAX(d.next_attempt_at, COALESCE(d.lease_expires_at, 0),
             MIN(CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 0 ELSE MAX(COALESCE(d.refreshed_at, 0) + @refresh, d.refresh_after) END,
                 COALESCE((SELECT MIN(enqueued_at) FROM outbox o WHERE o.downstream_id = d.id) + @flush, 9e15),
                 ${renew})) AS due
           FROM downstreams d JOIN configurations c ON c.id = d.configuration_id
           WHERE c.state = 'active' AND d.state IN ${WORKED_STATES})`,
      )
      .pluck()
      .get({ refresh: opts.refreshIntervalMs, flush: opts.flushIntervalMs, ...(opts.renewAfterMs === undefined ? {} : { renew: opts.renewAfterMs }) }) as number | null;
    return row;
  }
}
