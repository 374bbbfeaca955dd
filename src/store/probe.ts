/**
 * What `tailor doctor` asks of the database without opening the store (which would migrate it):
 * can it be reached, which migrations are applied against the ones this Tailor knows, does a real
 * write commit (one row in `meta`, as /readyz's ping), and how much disk is free beside an SQLite
 * file. Never creates a database and never applies a migration.
 */
import Database from 'better-sqlite3';
import { existsSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseTarget } from '../config.ts';
import { knownVersions as sqliteVersions } from './sqlite/open.ts';

export interface DatabaseProbe {
  dialect: 'sqlite' | 'postgres';
  /** Where, in words, without a password. */
  where: string;
  /** null when reachable, else why not. */
  unreachable: string | null;
  applied: number[];
  known: number[];
  /** null when a write committed (or was not tried: unreachable or not migrated), else why it failed. */
  unwritable: string | null;
  /** Free bytes for the SQLite file's directory; null on PostgreSQL (the server's disk is not visible from here). */
  freeBytes: number | null;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function probeDatabase(target: DatabaseTarget): Promise<DatabaseProbe> {
  return target.kind === 'sqlite' ? probeSqlite(target.path) : probePostgres(target.url);
}

function probeSqlite(path: string): DatabaseProbe {
  const where = resolve(path);
  const probe: DatabaseProbe = { dialect: 'sqlite', where, unreachable: null, applied: [], known: sqliteVersions(), unwritable: null, freeBytes: null };
  try {
    const s = statfsSync(existsSync(where) ? where : dirname(where));
    probe.freeBytes = Number(s.bavail) * Number(s.bsize);
  } catch {
    probe.freeBytes = null;
  }
  if (!existsSync(where)) {
    probe.unreachable = `no database file at ${where}`;
    return probe;
  }
  let db: Database.Database;
  try {
    db = new Database(where, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    probe.unreachable = messageOf(err);
    return probe;
  }
  try {
    probe.applied = readApplied(() => db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[]);
    if (probe.applied.length > 0) {
      try {
        db.prepare("INSERT INTO meta (key, value) VALUES ('doctor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(Date.now()));
      } catch (err) {
        probe.unwritable = messageOf(err);
      }
    }
  } catch (err) {
    probe.unreachable = messageOf(err);
  } finally {
    db.close();
  }
  return probe;
}

async function probePostgres(url: string): Promise<DatabaseProbe> {
  // Loaded only here: a Tailor on SQLite (the default) never loads the PostgreSQL driver.
  const [{ default: pg }, { knownVersions: postgresVersions }] = await Promise.all([import('pg'), import('./postgres/migrate.ts')]);
  const u = new URL(url);
  if (u.password) u.password = '***';
  u.searchParams.delete('pool_max');
  const clean = new URL(url);
  clean.searchParams.delete('pool_max');
  const probe: DatabaseProbe = {
    dialect: 'postgres',
    where: u.toString(),
    unreachable: null,
    applied: [],
    known: postgresVersions(),
    unwritable: null,
    freeBytes: null,
  };
  const client = new pg.Client({ connectionString: clean.toString(), connectionTimeoutMillis: 10_000, application_name: 'tailor-doctor' });
  try {
    await client.connect();
  } catch (err) {
    probe.unreachable = messageOf(err);
    await client.end().catch(() => undefined);
    return probe;
  }
  try {
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    if (exists.rows[0]?.t != null) {
      probe.applied = (await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version));
    }
    if (probe.applied.length > 0) {
      try {
        await client.query("INSERT INTO meta (key, value) VALUES ('doctor', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(Date.now())]);
      } catch (err) {
        probe.unwritable = messageOf(err);
      }
    }
  } catch (err) {
    probe.unreachable = messageOf(err);
  } finally {
    await client.end().catch(() => undefined);
  }
  return probe;
}

/** A database without the migrations table has none applied (a new file). */
function readApplied(read: () => number[]): number[] {
  try {
    return read();
  } catch (err) {
    if (/no such table/.test(messageOf(err))) return [];
    throw err;
  }
}
