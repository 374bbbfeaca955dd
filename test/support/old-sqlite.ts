/**
 * A SQLite database as an older Tailor left it, for the migration tests: the schema up to a
 * version, then rows written with the statements a test gives ($1-style parameters, as on
 * PostgreSQL; booleans as 0/1). `read` opens the file read-only for one look.
 */
import Database from 'better-sqlite3';
import { migrate } from '../../src/store/sqlite/open.ts';

export function buildOldSqlite(path: string, upTo: number, statements: [string, unknown[]][]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db, {}, upTo);
  db.transaction(() => {
    for (const [sql, params] of statements)
      db.prepare(sql.replace(/\$(\d+)/g, '@p$1')).run(Object.fromEntries(params.map((p, i) => [`p${i + 1}`, typeof p === 'boolean' ? Number(p) : p])));
  }).immediate();
  db.close();
}

export function readSqlite<T>(path: string, fn: (d: Database.Database) => T): T {
  const d = new Database(path, { readonly: true });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}
