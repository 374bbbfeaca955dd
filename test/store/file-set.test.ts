import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The two stores are adapters with one file set: an operation lives in a file of the same name on
 * both sides (src/store/README.md), so a reader who knows postgres/settle-sent.ts finds
 * sqlite/settle-sent.ts. An operation added to one side only fails here; a file that truly belongs
 * to one dialect is named below, with the reason.
 */
const DIALECT_ONLY = {
  sqlite: [
    'checkpoints.ts', // WAL checkpoints from a worker thread, off the requests' commits; PostgreSQL checkpoints by itself
    'due-check.ts', // outbox counts remembered between claims on one connection; PostgreSQL counts in the server, stopping at a full batch
    'open.ts', // opening the file: pragmas, migrations, WAL checkpoints (postgres: db.ts and migrate.ts)
    'private-files.ts', // owner-only modes of the database file and its companions; PostgreSQL owns its files
    'scrub.ts', // the VACUUM request a migration leaves for open.ts; PostgreSQL has no file to scrub
    'writer.ts', // the writer thread's client: better-sqlite3 holds the event loop, pg does not
    'writer-thread.ts', // the writer thread itself (writer.ts)
    'door.ts', // the count of calls waiting for the writer thread, shared with it (writer.ts)
    'slice-end.ts', // where a claim's or settle's slice ends: SQLite's transactions hold the writer, PostgreSQL's do not
    'statements.ts', // compiled statements kept per connection: better-sqlite3 compiles on every prepare(), PostgreSQL plans in the server
  ],
  postgres: [
    'db.ts', // the connection pool, transactions retried on deadlock, error mapping
    'due-scan.ts', // the claim's and nextDueAt's reads without a seek per downstream row: the outbox walked by its index (sqlite: due-check.ts)
    'locks.ts', // the lock order and the per-audience advisory lock; SQLite has one writer per file
    'migrate.ts', // migrations under an advisory lock, for many processes (sqlite: open.ts)
    'wake.ts', // LISTEN/NOTIFY between processes; SQLite workers share one process or poll
  ],
} as const;

const files = (dialect: 'sqlite' | 'postgres'): string[] =>
  readdirSync(fileURLToPath(new URL(`../../src/store/${dialect}/`, import.meta.url)), { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => e.name)
    .sort();

describe('the two stores have the same file set', () => {
  const sqlite = files('sqlite');
  const postgres = files('postgres');
  const shared = (own: string[], only: readonly string[]): string[] => own.filter((f) => !only.includes(f));

  it('every operation file on one side has its namesake on the other', () => {
    expect(shared(sqlite, DIALECT_ONLY.sqlite)).toEqual(shared(postgres, DIALECT_ONLY.postgres));
  });

  it('the dialect-only files exist, and only on their own side', () => {
    for (const f of DIALECT_ONLY.sqlite) {
      expect(sqlite).toContain(f);
      expect(postgres).not.toContain(f);
    }
    for (const f of DIALECT_ONLY.postgres) {
      expect(postgres).toContain(f);
      expect(sqlite).not.toContain(f);
    }
  });

  it('holds the operations of the port, one file each', () => {
    // A floor, not the whole list: the files the docs name (docs/architecture.md, "The store").
    for (const f of [
      'index.ts',
      'claim.ts',
      'ledger.ts',
      'lease.ts',
      'release.ts',
      'settle-sent.ts',
      'settle-not-found.ts',
      'settle-rejected.ts',
      'rate.ts',
      'sessions.ts',
      'configurations.ts',
      'audiences.ts',
      'connections.ts',
      'status.ts',
    ]) {
      expect(sqlite).toContain(f);
    }
  });
});
