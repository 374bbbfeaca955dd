import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Opens the database file with the settings Tailor relies on, and applies pending migrations.
 * WAL lets readers (status, UI) run beside the writer; synchronous=FULL makes a commit durable
 * before a change is acknowledged, which is the promise behind every 200 and 202.
 */
export function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // 64 MB of page cache (SQLite's default is 2 MB). The ledger and outbox are keyed by hash, so
  // consecutive changes land on random pages; with the default cache, an audience of a few hundred
  // thousand members turns nearly every change into page reads from the OS (bench: import rate
  // +50% at 200,000 members). Fixed size: memory stays flat however large the database grows.
  db.pragma('cache_size = -65536');
  // Another process (a `tailor migrate` or a CLI import) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Applies numbered migrations in order, each in its own transaction. Returns the versions applied. */
export function migrate(db: Database.Database): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const applied: number[] = [];
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort()) {
    const version = Number(file.slice(0, 4));
    if (done.has(version)) continue;
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      if (version === 1) db.prepare("INSERT INTO meta (key, value) VALUES ('installation_id', ?)").run(randomUUID());
    }).immediate();
    applied.push(version);
  }
  return applied;
}
