/**
 * Throwaway PostgreSQL databases for tests: each is created on the test server and dropped by the
 * test that made it. The server is TAILOR_TEST_POSTGRES_URL (any database on it serves as the
 * maintenance connection). Under vitest it is always set: test/support/postgres.ts names the local
 * server when one answers, else starts one for the run. Outside vitest (the benchmark) the local
 * server is probed here.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The local server CI starts: 127.0.0.1:5432, trust auth, under the user names it may have. */
export const LOCAL_SERVERS = ['postgres://postgres@127.0.0.1:5432/postgres', 'postgres://root@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/postgres'];

/** The first server that answers, or why none did. */
export async function firstAnswering(urls: string[]): Promise<{ url: string } | { error: string }> {
  const errors: string[] = [];
  for (const url of urls) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { url };
    } catch (err) {
      errors.push(`${url.replace(/:[^:@/]*@/, ':***@')}: ${String(err)}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { error: `PostgreSQL is unreachable (set TAILOR_TEST_POSTGRES_URL): ${errors.join('; ')}` };
}

let admin: Promise<{ url: string } | { error: string }> | null = null;

function adminUrl(): Promise<{ url: string } | { error: string }> {
  const named = process.env.TAILOR_TEST_POSTGRES_URL;
  admin ??= firstAnswering(named ? [named] : LOCAL_SERVERS);
  return admin;
}

/** Whether a server answers (the benchmark leaves its PostgreSQL parts out without one). */
export async function postgresAvailable(): Promise<boolean> {
  return 'url' in (await adminUrl());
}

async function onAdmin(sql: string): Promise<string> {
  const found = await adminUrl();
  if ('error' in found) throw new Error(found.error);
  const client = new pg.Client({ connectionString: found.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
  return found.url;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new empty database; `drop()` removes it, closing any connection a test left open. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tailor_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const base = await onAdmin(`CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      await onAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
