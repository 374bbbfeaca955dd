import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../../core/errors.ts';

/*
 * The connection pool and the one way Tailor talks to PostgreSQL: `tx` (one transaction, retried
 * whole on a deadlock or serialization failure) and `query` (one autocommitted statement).
 */

export type Sql = Pick<pg.PoolClient, 'query'>;

/** What one autocommitted statement needs: a transaction's client or the pool (Db) alike. */
export interface Reader {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

const INT8_OID = 20;

/**
 * bigint columns hold epoch milliseconds, counters and ids: all far below 2^53, so they are read
 * as numbers (per pool, not through pg's global parser table, which other code may rely on).
 */
const parseInt8 = (v: string): number => Number(v);
const getTypeParser = (oid: number, format?: 'text' | 'binary'): unknown =>
  oid === INT8_OID && format !== 'binary' ? parseInt8 : (pg.types.getTypeParser(oid, format ?? 'text') as unknown);
const TYPES: pg.CustomTypesConfig = { getTypeParser: getTypeParser as pg.CustomTypesConfig['getTypeParser'] };

/**
 * Ten connections per process by default: a worker loop holds one only for the length of a claim
 * or settle transaction (milliseconds), and ingest transactions are short too. `?pool_max=N` in
 * TAILOR_DATABASE_URL changes it (see docs/operations.md for sizing against max_connections).
 */
const DEFAULT_POOL_MAX = 10;

export function createPool(url: string): pg.Pool {
  const u = new URL(url);
  const max = Number(u.searchParams.get('pool_max') ?? DEFAULT_POOL_MAX);
  u.searchParams.delete('pool_max');
  const pool = new pg.Pool({
    connectionString: u.toString(),
    max: Number.isInteger(max) && max > 0 ? max : DEFAULT_POOL_MAX,
    types: TYPES,
    application_name: 'tailor',
    // A connection that cannot be had in this time means the database is down or saturated: the
    // caller gets StoreUnavailableError (503 to senders) instead of waiting forever.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (server restart) must not crash the process; the pool
  // drops it and the next checkout connects afresh.
  pool.on('error', () => undefined);
  // No JIT compilation: Tailor's statements are short, and the planner's cost estimates for the
  // claim's and the status pages' statements run far past jit_above_cost when a queue table's
  // statistics lag behind its size (the outbox swings from empty to millions of rows), so a claim
  // that runs in 100 ms spent another second compiling (bench/claims.ts). SET, not a startup
  // option, so that a pooler in session mode in front passes it through.
  pool.on('connect', (client) => {
    client.query('SET jit = off').catch(() => undefined);
  });
  return pool;
}

/** SQLSTATEs after which the whole transaction is simply run again. */
const RETRY = new Set(['40P01' /* deadlock_detected */, '40001' /* serialization_failure */]);
const MAX_TRIES = 8;

/** Errors that mean "the database cannot take this write now": answered with 503, retried by senders. */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // 08 connection exception, 53 insufficient resources (disk full, too many connections),
    // 57P0x shutdown / cannot connect now, 58 system errors (I/O), and socket errors.
    if (/^(08|53|58)/.test(code) || /^57P0[1-4]$/.test(code) || /^E[A-Z]+$/.test(code)) return true;
    return false;
  }
  const message = err instanceof Error ? err.message : String(err);
  return /connection|terminated|timeout exceeded|ECONNREFUSED|Client has encountered/i.test(message);
}

function mapError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  if (isUnavailable(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new StoreUnavailableError(`database unavailable (${message})`, { cause: err });
  }
  return err;
}

export class Db {
  constructor(readonly pool: pg.Pool) {}

  /** Runs fn in one READ COMMITTED transaction; deadlock victims and serialization failures are retried whole. */
  async tx<T>(fn: (c: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      // Jittered, growing pause before a retry, so that two deadlock victims do not meet again at once.
      if (attempt > 1) await sleep(Math.random() * 5 * 2 ** attempt);
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw mapError(err);
      }
      // Set when the connection itself is suspect: release(err) then destroys it instead of pooling it.
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && RETRY.has(code) && attempt < MAX_TRIES) continue;
        throw mapError(err);
      } finally {
        client.release(broken);
      }
    }
  }

  /** One statement, autocommitted (a transaction of its own). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.pool.query<R>(text, values);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && RETRY.has(code) && attempt < MAX_TRIES) {
          await sleep(Math.random() * 5 * 2 ** attempt);
          continue;
        }
        throw mapError(err);
      }
    }
  }
}
