import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '../../core/errors.ts';
import { IDENTITY_TYPES, type ConfigurationState, type IdentityType } from '../../core/terms.ts';
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
  SentBatch,
  Store,
  XAudienceState,
  ReleaseOptions,
} from '../port.ts';
import { claim } from './claim.ts';
import { Db, createPool, isUnavailable, type Sql } from './db.ts';
import { recordSample } from './history.ts';
import { RELEASE, forgetDownstreams, holdLease } from './lease.ts';
import { WORKED_STATES } from '../states.ts';
import { applyMemberChanges, resync } from './ledger.ts';
import { lockAudience } from './locks.ts';
import { migrate } from './migrate.ts';
import type { OpenOptions } from '../open-options.ts';
import { release } from './release.ts';
import { holdRate, takeRateToken } from './rate.ts';
import { toAudience, toConfiguration, toConnection, toDownstream, type AudienceRow, type ConfigurationRow, type ConnectionRow, type DownstreamRow } from '../rows.ts';
import * as sessions from './sessions.ts';
import { firehoseAccessSql } from '../origin.ts';
import { settleNotFound } from './settle-not-found.ts';
import { settleRejected } from './settle-rejected.ts';
import { settleSent } from './settle-sent.ts';
import { WAKE_CHANNEL, WakeListener } from './wake.ts';

const FIREHOSE_ACCESS_SQL = firehoseAccessSql('$1', '$2', '$3');

const accessOfRow = (row: { owned: number } | undefined): FirehoseAccess => (!row ? 'unknown' : row.owned ? 'owned' : 'foreign');

async function accessOf(c: Sql, audienceId: string, sender: FirehoseSender): Promise<FirehoseAccess> {
  return accessOfRow((await c.query<{ owned: number }>(FIREHOSE_ACCESS_SQL, [audienceId, sender.account, sender.configurationId])).rows[0]);
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

function toggleFor(t: ConnectionToggles, type: IdentityType): boolean {
  return type === 'email' ? t.forwardEmails : type === 'handle' ? t.forwardTwitterHandles : t.forwardDeviceIds;
}

const NOTIFY = `SELECT pg_notify('${WAKE_CHANNEL}', 'structure')`;

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
    this.installation ??= (await this.db.query<{ value: string }>("SELECT value FROM meta WHERE key = 'installation_id'")).rows[0]!.value;
    return this.installation;
  }

  async close(): Promise<void> {
    await this.wake.close();
    await this.db.pool.end();
  }

  async metricsSnapshot(): Promise<MetricsSnapshot> {
    // One pass over the outbox's (downstream_id, enqueued_at) index per downstream audience.
    const pending = await this.db.query<MetricsSnapshot['pending'][number]>(
      `SELECT d.audience_id AS "audienceId", d.configuration_id AS "configurationId", d.identity_type AS "identityType",
         count(o.hash) AS count, min(o.enqueued_at) AS "oldestEnqueuedAt"
       FROM downstreams d LEFT JOIN outbox o ON o.downstream_id = d.id
       WHERE d.state <> 'deleting' GROUP BY d.id`,
    );
    const reauth = await this.db.query<{ n: number }>("SELECT count(*) AS n FROM configurations WHERE state = 'needs_reauth'");
    return { pending: pending.rows, configurationsNeedingReauth: reauth.rows[0]!.n };
  }

  async ping(): Promise<void> {
    await this.db.query("INSERT INTO meta (key, value) VALUES ('ping', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(Date.now())]);
  }

  /**
   * Calls `listener` when another process (or this one) committed changes that may give workers
   * something to do (LISTEN/NOTIFY). Polling stays the backstop: a lost notification only delays.
   */
  onWake(listener: () => void): () => void {
    return this.wake.subscribe(listener);
  }

  // configurations

  async putConfiguration(input: ConfigurationInput, now: number): Promise<{ configuration: Configuration; created: boolean }> {
    // One statement: two processes adding the same account at once end with one row. New tokens
    // for a known account are a re-authorization, and resume it.
    const r = await this.db.query<ConfigurationRow & { inserted: boolean }>(
      `INSERT INTO configurations AS c (id, name, account_id, account_name, x_user_id, screen_name, tokens, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8)
       ON CONFLICT (account_id) DO UPDATE SET name = excluded.name, account_name = excluded.account_name, x_user_id = excluded.x_user_id,
         screen_name = excluded.screen_name, tokens = excluded.tokens, state = 'active', state_reason = NULL, updated_at = excluded.updated_at
       RETURNING c.*, (xmax = 0) AS inserted`,
      [randomUUID(), input.name, input.accountId, input.accountName, input.xUserId, input.screenName, input.tokens, now],
    );
    const row = r.rows[0]!;
    if (!row.inserted) await this.db.query(NOTIFY);
    return { configuration: toConfiguration(row), created: row.inserted };
  }

  async listConfigurations(): Promise<Configuration[]> {
    return (await this.db.query<ConfigurationRow>('SELECT * FROM configurations ORDER BY created_at, id')).rows.map(toConfiguration);
  }

  async getConfiguration(id: string): Promise<Configuration | null> {
    const row = (await this.db.query<ConfigurationRow>('SELECT * FROM configurations WHERE id = $1', [id])).rows[0];
    return row ? toConfiguration(row) : null;
  }

  async getConfigurationByAccount(accountId: string): Promise<Configuration | null> {
    const row = (await this.db.query<ConfigurationRow>('SELECT * FROM configurations WHERE account_id = $1', [accountId])).rows[0];
    return row ? toConfiguration(row) : null;
  }

  async deleteConfiguration(id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
    return this.db.tx(async (c) => {
      // The row lock makes a concurrent putConnection's foreign-key check wait for this decision.
      if ((await c.query('SELECT 1 FROM configurations WHERE id = $1 FOR UPDATE', [id])).rowCount === 0) return 'not_found';
      const inUse = await c.query(
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM connections WHERE configuration_id = $1) OR EXISTS (SELECT 1 FROM downstreams WHERE configuration_id = $1 AND state = 'deleting')",
        [id],
      );
      if ((inUse.rowCount ?? 0) > 0) return 'in_use';
      // Detached downstream audiences stay on X; Tailor only forgets them.
      const ids = await c.query<{ id: number }>('SELECT id FROM downstreams WHERE configuration_id = $1 ORDER BY id FOR UPDATE', [id]);
      await forgetDownstreams(
        c,
        ids.rows.map((r) => r.id),
      );
      await c.query('DELETE FROM configurations WHERE id = $1', [id]);
      return 'deleted';
    });
  }

  async setConfigurationState(id: string, state: ConfigurationState, reason: string | null, now: number): Promise<void> {
    await this.db.tx(async (c) => {
      await c.query('UPDATE configurations SET state = $2, state_reason = $3, updated_at = $4 WHERE id = $1', [id, state, reason, now]);
      if (state === 'active') await c.query(NOTIFY);
    });
  }

  // audiences and connections

  async putAudience(id: string, name: string, now: number, origin: AudienceOrigin = { kind: 'api' }): Promise<{ audience: Audience; created: boolean; renamed: boolean; foreign?: boolean }> {
    return this.db.tx(async (c) => {
      // The upsert locks an existing row (a no-op update) in the same statement that finds it.
      const upserted = await c.query<AudienceRow & { inserted: boolean }>(
        `INSERT INTO audiences AS a (id, name, origin, origin_account, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (id) DO UPDATE SET id = a.id RETURNING a.*, (xmax = 0) AS inserted`,
        [id, name, origin.kind, origin.kind === 'firehose' ? origin.account : null, now],
      );
      const row = upserted.rows[0]!;
      if (row.inserted) return { audience: toAudience(row), created: true, renamed: false };
      if (origin.kind === 'firehose' && (await accessOf(c, id, origin)) !== 'owned') return { audience: toAudience(row), created: false, renamed: false, foreign: true };
      if (row.name === name) return { audience: toAudience(row), created: false, renamed: false };
      // The claim compares each downstream's X name with the audience's: a rename follows.
      await c.query('UPDATE audiences SET name = $2, updated_at = $3 WHERE id = $1', [id, name, now]);
      await c.query(NOTIFY);
      return { audience: { ...toAudience(row), name, updatedAt: now }, created: false, renamed: true };
    });
  }

  async firehoseAccess(audienceId: string, sender: FirehoseSender): Promise<FirehoseAccess> {
    return accessOfRow((await this.db.query<{ owned: number }>(FIREHOSE_ACCESS_SQL, [audienceId, sender.account, sender.configurationId])).rows[0]);
  }

  async getAudience(id: string): Promise<Audience | null> {
    const row = (await this.db.query<AudienceRow>('SELECT * FROM audiences WHERE id = $1', [id])).rows[0];
    return row ? toAudience(row) : null;
  }

  async listAudiences(): Promise<(Audience & { members: number })[]> {
    const rows = await this.db.query<AudienceRow & { members: number }>(
      'SELECT a.*, a.member_count AS members FROM audiences a ORDER BY a.created_at, a.id',
    );
    return rows.rows.map((r) => ({ ...toAudience(r), members: r.members }));
  }

  async countMembers(audienceId: string): Promise<number> {
    // Maintained by the ledger in each ingest's transaction (ledger.ts); no count over the ledger.
    return (await this.db.query<{ n: number }>('SELECT member_count AS n FROM audiences WHERE id = $1', [audienceId])).rows[0]?.n ?? 0;
  }

  async listSamples(audienceId: string): Promise<{ downstreamId: number; at: number; members: number; audienceSize: number | null }[]> {
    const r = await this.db.query<{ downstreamId: number; at: number; members: number; audienceSize: number | null }>(
      `SELECT s.downstream_id AS "downstreamId", s.at, s.members, s.audience_size AS "audienceSize" FROM samples s
       JOIN downstreams d ON d.id = s.downstream_id WHERE d.audience_id = $1 ORDER BY s.at`,
      [audienceId],
    );
    return r.rows;
  }

  async listErrors(audienceId: string, limit: number): Promise<{ downstreamId: number; at: number; message: string }[]> {
    const r = await this.db.query<{ downstreamId: number; at: number; message: string }>(
      `SELECT e.downstream_id AS "downstreamId", e.at, e.message FROM downstream_errors e
       JOIN downstreams d ON d.id = e.downstream_id WHERE d.audience_id = $1 ORDER BY e.id DESC LIMIT $2`,
      [audienceId, limit],
    );
    return r.rows;
  }

  /**
   * Structural changes of one audience start the same way: its advisory lock EXCLUSIVE (no ingest
   * in flight), then its downstream rows in id order (no settle in flight). See locks.ts.
   */
  private async lockStructure(c: Sql, audienceId: string, where = '', params: unknown[] = []): Promise<{ id: number; state: string; x_audience_id: string | null; create_attempt_name: string | null; configuration_id: string; identity_type: string }[]> {
    await lockAudience(c, audienceId, 'exclusive');
    const r = await c.query<{ id: number; state: string; x_audience_id: string | null; create_attempt_name: string | null; configuration_id: string; identity_type: string }>(
      `SELECT id, state, x_audience_id, create_attempt_name, configuration_id, identity_type FROM downstreams WHERE audience_id = $1 ${where} ORDER BY id FOR UPDATE`,
      [audienceId, ...params],
    );
    return r.rows;
  }

  async deleteAudience(id: string, now: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      const downs = await this.lockStructure(c, id, "AND state <> 'deleting'");
      if ((await c.query('SELECT 1 FROM audiences WHERE id = $1 FOR UPDATE', [id])).rowCount === 0) return false;
      const never = downs.filter((d) => d.x_audience_id === null && d.create_attempt_name === null).map((d) => d.id); // never reached X
      const reached = downs.filter((d) => !never.includes(d.id)).map((d) => d.id);
      await forgetDownstreams(c, never);
      if (reached.length > 0) {
        await c.query('DELETE FROM outbox WHERE downstream_id = ANY($1::bigint[])', [reached]);
        await c.query("UPDATE downstreams SET state = 'deleting', next_attempt_at = 0, attempts = 0, updated_at = $2 WHERE id = ANY($1::bigint[])", [reached, now]);
      }
      for (const table of ['members', 'hash_holders', 'audience_members', 'rejections', 'connections']) {
        await c.query(`DELETE FROM ${table} WHERE audience_id = $1`, [id]);
      }
      await c.query('DELETE FROM audiences WHERE id = $1', [id]);
      await c.query(NOTIFY);
      return true;
    });
  }

  async putConnection(audienceId: string, configurationId: string, toggles: ConnectionToggles, now: number): Promise<{ connection: Connection; created: boolean }> {
    return this.db.tx(async (c) => {
      const downs = await this.lockStructure(c, audienceId, "AND configuration_id = $2 AND state <> 'deleting'", [configurationId]);
      const upserted = await c.query<ConnectionRow & { inserted: boolean }>(
        `INSERT INTO connections AS k (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (audience_id, configuration_id) DO UPDATE SET forward_emails = excluded.forward_emails,
           forward_handles = excluded.forward_handles, forward_device_ids = excluded.forward_device_ids, updated_at = excluded.updated_at
         RETURNING k.*, (xmax = 0) AS inserted`,
        [audienceId, configurationId, toggles.forwardEmails, toggles.forwardTwitterHandles, toggles.forwardDeviceIds, now],
      );
      for (const type of IDENTITY_TYPES) {
        const row = downs.find((d) => d.identity_type === type);
        const on = toggleFor(toggles, type);
        if (on && !row) {
          const created = await c.query<{ id: number }>(
            "INSERT INTO downstreams (audience_id, configuration_id, identity_type, state, created_at, updated_at) VALUES ($1, $2, $3, 'creating', $4, $4) RETURNING id",
            [audienceId, configurationId, type, now],
          );
          await resync(c, created.rows[0]!.id, audienceId, type, now);
        } else if (on && row?.state === 'detached') {
          await c.query('UPDATE downstreams SET state = $2, next_attempt_at = 0, updated_at = $3 WHERE id = $1', [row.id, row.x_audience_id ? 'active' : 'creating', now]);
          await resync(c, row.id, audienceId, type, now);
        } else if (!on && row && row.state !== 'detached') {
          await this.detach(c, [row.id], now);
        }
      }
      await c.query(NOTIFY);
      const k = upserted.rows[0]!;
      return { connection: toConnection(k), created: k.inserted };
    });
  }

  private async detach(c: Sql, ids: number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await c.query('DELETE FROM outbox WHERE downstream_id = ANY($1::bigint[])', [ids]);
    await c.query("UPDATE downstreams SET state = 'detached', updated_at = $2 WHERE id = ANY($1::bigint[])", [ids, now]);
  }

  async listConnections(audienceId: string): Promise<Connection[]> {
    return (await this.db.query<ConnectionRow>('SELECT * FROM connections WHERE audience_id = $1 ORDER BY created_at', [audienceId])).rows.map(toConnection);
  }

  async deleteConnection(audienceId: string, configurationId: string, now: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      const downs = await this.lockStructure(c, audienceId, "AND configuration_id = $2 AND state NOT IN ('deleting', 'detached')", [configurationId]);
      const deleted = await c.query('DELETE FROM connections WHERE audience_id = $1 AND configuration_id = $2', [audienceId, configurationId]);
      if ((deleted.rowCount ?? 0) === 0) return false;
      await this.detach(
        c,
        downs.map((d) => d.id),
        now,
      );
      return true;
    });
  }

  async listDownstreams(audienceId: string): Promise<DownstreamStatus[]> {
    const rows = await this.db.query<DownstreamRow & { pending: number }>(
      `SELECT d.*, (SELECT count(*) FROM outbox o WHERE o.downstream_id = d.id) AS pending FROM downstreams d
       WHERE d.audience_id = $1 ORDER BY d.configuration_id, CASE d.identity_type WHEN 'email' THEN 0 WHEN 'handle' THEN 1 ELSE 2 END, d.id`,
      [audienceId],
    );
    return rows.rows.map((r) => ({ ...toDownstream(r), pending: r.pending }));
  }

  // membership

  async applyMemberChanges(audienceId: string, changes: MemberChange[], now: number, rejections?: Record<string, number>): Promise<ApplyResult> {
    return this.db.tx((c) => applyMemberChanges(c, audienceId, changes, now, rejections));
  }

  async listRejections(audienceId: string): Promise<{ reason: string; count: number; lastAt: number }[]> {
    const r = await this.db.query<{ reason: string; count: number; lastAt: number }>(
      'SELECT reason, count, last_at AS "lastAt" FROM rejections WHERE audience_id = $1 ORDER BY count DESC',
      [audienceId],
    );
    return r.rows;
  }

  // sync

  async claim(opts: ClaimOptions): Promise<Claim | null> {
    return claim(this.db, opts);
  }

  async recordCreateAttempt(downstreamId: number, token: string, name: string): Promise<boolean> {
    const r = await this.db.query('UPDATE downstreams SET create_attempt_name = $3 WHERE id = $1 AND lease_token = $2', [downstreamId, token, name]);
    return (r.rowCount ?? 0) > 0;
  }

  async settleCreated(downstreamId: number, token: string, x: XAudienceState & { id: string; name: string; nameSuffix: number }, now: number): Promise<boolean> {
    // A re-created audience stays 'recreating' until its refill has been sent (settleSent).
    const r = await this.db.query(
      `UPDATE downstreams SET ${RELEASE}, x_audience_id = $3, x_name = $4, name_suffix = $5,
         state = CASE WHEN state = 'creating' THEN 'active' ELSE state END, audience_size = $6, targetable = $7,
         reasons_not_targetable = $8, refreshed_at = $9, attempts = 0, next_attempt_at = 0, updated_at = $9
       WHERE id = $1 AND lease_token = $2`,
      [downstreamId, token, x.id, x.name, x.nameSuffix, x.audienceSize, x.targetable, JSON.stringify(x.reasonsNotTargetable), now],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async settleRenamed(downstreamId: number, token: string, xName: string, nameSuffix: number, now: number): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE downstreams SET ${RELEASE}, x_name = $3, name_suffix = $4, attempts = 0, next_attempt_at = 0, updated_at = $5
       WHERE id = $1 AND lease_token = $2`,
      [downstreamId, token, xName, nameSuffix, now],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async settleSent(downstreamId: number, token: string, result: SentBatch, now: number): Promise<boolean> {
    return this.db.tx((c) => settleSent(c, downstreamId, token, result, now));
  }

  async settleDeleted(downstreamId: number, token: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      if (!(await holdLease(c, downstreamId, token))) return false;
      await forgetDownstreams(c, [downstreamId]);
      return true;
    });
  }

  async settleRefreshed(downstreamId: number, token: string, x: XAudienceState, now: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      const r = await c.query(
        `UPDATE downstreams SET ${RELEASE}, audience_size = $3, targetable = $4, reasons_not_targetable = $5, refreshed_at = $6,
           attempts = 0, next_attempt_at = 0, updated_at = $6 WHERE id = $1 AND lease_token = $2`,
        [downstreamId, token, x.audienceSize, x.targetable, JSON.stringify(x.reasonsNotTargetable), now],
      );
      if ((r.rowCount ?? 0) === 0) return false;
      await recordSample(c, downstreamId, now);
      return true;
    });
  }

  async settleNotFound(downstreamId: number, token: string, reason: string, now: number, nameSuffix?: number): Promise<boolean> {
    return this.db.tx((c) => settleNotFound(c, downstreamId, token, reason, now, nameSuffix));
  }

  async settleRejected(downstreamId: number, token: string, rejectedHashes: string[], error: string, now: number): Promise<boolean> {
    return this.db.tx((c) => settleRejected(c, downstreamId, token, rejectedHashes, error, now));
  }

  async release(downstreamId: number, token: string, opts: ReleaseOptions): Promise<boolean> {
    return this.db.tx((c) => release(c, downstreamId, token, opts));
  }

  async leaseOwners(): Promise<string[]> {
    const r = await this.db.query<{ lease_owner: string }>('SELECT DISTINCT lease_owner FROM downstreams WHERE lease_token IS NOT NULL AND lease_owner IS NOT NULL');
    return r.rows.map((row) => row.lease_owner);
  }

  async releaseOwner(owner: string): Promise<number> {
    return this.db.tx(async (c) => {
      // Lock order (locks.ts): the downstream rows, then their claimed outbox rows, each sorted.
      const ids = (await c.query<{ id: number }>('SELECT id FROM downstreams WHERE lease_owner = $1 AND lease_token IS NOT NULL ORDER BY id FOR UPDATE', [owner])).rows.map((r) => r.id);
      if (ids.length === 0) return 0;
      await c.query('SELECT 1 FROM outbox WHERE downstream_id = ANY($1::bigint[]) AND claim_token IS NOT NULL ORDER BY downstream_id, hash FOR UPDATE', [ids]);
      await c.query('UPDATE outbox SET claim_token = NULL WHERE downstream_id = ANY($1::bigint[]) AND claim_token IS NOT NULL', [ids]);
      await c.query(`UPDATE downstreams SET ${RELEASE} WHERE id = ANY($1::bigint[])`, [ids]);
      return ids.length;
    });
  }

  async takeRateToken(key: string, now: number, perMinute: number, burst: number): Promise<number> {
    return this.db.tx((c) => takeRateToken(c, key, now, perMinute, burst));
  }

  async holdRate(key: string, until: number, now: number, perMinute: number): Promise<void> {
    await this.db.tx((c) => holdRate(c, key, until, now, perMinute));
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
    // A renewal is due at its oldest confirmation + renewAfterMs ($3; null: no renewals), and no
    // sooner than one flush interval after the last renewal step (claim.ts).
    const r = await this.db.query<{ due: number | null }>(
      `SELECT MIN(GREATEST(d.next_attempt_at, COALESCE(d.lease_expires_at, 0),
         LEAST(CASE WHEN d.state = 'deleting' OR d.x_audience_id IS NULL THEN 0 ELSE GREATEST(COALESCE(d.refreshed_at, 0) + $1::bigint, d.refresh_after) END,
               COALESCE((SELECT MIN(o.enqueued_at) FROM outbox o WHERE o.downstream_id = d.id) + $2::bigint, 9000000000000000::bigint),
               CASE WHEN $3::bigint IS NULL OR d.state = 'deleting' OR d.x_audience_id IS NULL THEN 9000000000000000::bigint
                 ELSE GREATEST(d.renew_claimed_at + $2::bigint,
                   COALESCE((SELECT MIN(x.confirmed_at) FROM x_members x WHERE x.downstream_id = d.id AND x.confirmed) + $3::bigint, 9000000000000000::bigint)) END))) AS due
       FROM downstreams d JOIN configurations c ON c.id = d.configuration_id
       WHERE c.state = 'active' AND d.state IN ${WORKED_STATES}`,
      [opts.refreshIntervalMs, opts.flushIntervalMs, opts.renewAfterMs ?? null],
    );
    return r.rows[0]?.due ?? null;
  }
}
