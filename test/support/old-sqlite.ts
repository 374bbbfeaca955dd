/**
 * A SQLite database as an older Tailor left it, for the migration tests: the schema up to a
 * version, then rows written with the statements a test gives ($1-style parameters, as on
 * PostgreSQL; booleans as 0/1). `read` opens the file read-only for one look.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { migrate } from '../../src/store/sqlite/open.ts';

function buildOldSqlite(path: string, upTo: number, statements: [string, unknown[]][]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db, {}, upTo);
  db.transaction(() => {
    for (const [sql, params] of statements)
      db.prepare(sql.replace(/\$(\d+)/g, '@p$1')).run(Object.fromEntries(params.map((p, i) => [`p${i + 1}`, typeof p === 'boolean' ? Number(p) : p])));
  }).immediate();
  db.close();
}

function readSqlite<T>(path: string, fn: (d: Database.Database) => T): T {
  const d = new Database(path, { readonly: true });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}

/** The same, in a temporary directory, with the shape of buildOldPostgres: stores opened on the file (each migrates it to today), the newest migration applied, and a cleanup that closes them and removes the directory. */
export interface OldSqlite {
  path: string;
  read: <T>(fn: (d: Database.Database) => T) => T;
  open(): Promise<Store>;
  version(): Promise<number>;
  cleanup(): Promise<void>;
}

export function buildOldSqliteFile(upTo: number, statements: [string, unknown[]][]): OldSqlite {
  const dir = mkdtempSync(join(tmpdir(), `tailor-${String(upTo).padStart(4, '0')}-`));
  const path = join(dir, 'tailor.db');
  buildOldSqlite(path, upTo, statements);
  const stores: Store[] = [];
  const read = <T>(fn: (d: Database.Database) => T): T => readSqlite(path, fn);
  return {
    path,
    read,
    async open() {
      const s = SqliteStore.open(path);
      stores.push(s);
      return s;
    },
    version: async () => read((d) => d.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number),
    async cleanup() {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
