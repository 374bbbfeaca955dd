import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownFile } from '../../files.ts';
import type { OpenOptions } from '../open-options.ts';
import { convertMemberKeys } from './migrations/0005_member_keys.ts';

const MIGRATIONS_DIR = fileURLToPath(ownFile('store/postgres/migrations'));

/**
 * Migrations written in code, by version: they run after the version's .sql file (if any), in the
 * same transaction. Frozen like the .sql files.
 */
const CODE_STEPS: Record<number, (c: pg.PoolClient, opts: OpenOptions) => Promise<void>> = {
  5: convertMemberKeys,
};

/**
 * The session-level advisory lock every migrating process takes first ('TAILMIGR' as 8 bytes).
 * Processes that start together queue on it: the first applies the pending files, the others then
 * find nothing left to do. A process that dies holding it loses its session, which frees it.
 */
export const MIGRATION_LOCK = 0x5441494c4d494752n;

/** Every migration version this Tailor knows, in order (`tailor doctor` compares them with the applied ones). */
export function knownVersions(): number[] {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.*\.sql$/.test(f));
  return [...new Set([...files.map((f) => Number(f.slice(0, 4))), ...Object.keys(CODE_STEPS).map(Number)])].sort((a, b) => a - b);
}

/**
 * Applies numbered migrations in order, each in its own transaction, under the advisory lock.
 * Returns the versions applied. `upTo` stops after that version: tests use it to build a database
 * as an older Tailor left it.
 */
export async function migrate(pool: pg.Pool, opts: OpenOptions = {}, upTo = Infinity): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const applied: number[] = [];
      const files = new Map(
        readdirSync(MIGRATIONS_DIR)
          .filter((f) => /^\d{4}_.*\.sql$/.test(f))
          .map((f) => [Number(f.slice(0, 4)), f] as const),
      );
      const versions = [...new Set([...files.keys(), ...Object.keys(CODE_STEPS).map(Number)])].sort((a, b) => a - b);
      for (const version of versions) {
        if (done.has(version) || version > upTo) continue;
        const file = files.get(version);
        const sql = file === undefined ? null : readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
        await client.query('BEGIN');
        try {
          if (sql !== null) await client.query(sql);
          await CODE_STEPS[version]?.(client, opts);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
          if (version === 1) await client.query("INSERT INTO meta (key, value) VALUES ('installation_id', $1)", [randomUUID()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        applied.push(version);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  } finally {
    client.release();
  }
}
