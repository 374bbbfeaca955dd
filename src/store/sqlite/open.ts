import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { ownFile } from '../../files.ts';
import type { OpenOptions } from '../open-options.ts';
import { convertMemberKeys } from './migrations/0005_member_keys.ts';
import { CAP_BYTES, checkpointInBackground } from './checkpoints.ts';
import { makePrivate } from './private-files.ts';
import { SCRUB_KEY } from './scrub.ts';

const MIGRATIONS_DIR = fileURLToPath(ownFile('store/sqlite/migrations'));

/**
 * Migrations written in code, by version: they run after the version's .sql file (if any), in the
 * same transaction. Frozen like the .sql files.
 */
const CODE_STEPS: Record<number, (db: Database.Database, opts: OpenOptions) => void> = {
  5: convertMemberKeys,
};

const noticeOf = (opts: OpenOptions): ((message: string) => void) => opts.notice ?? ((m) => process.stderr.write(`tailor: ${m}\n`));

/**
 * Opens the database file with the settings Tailor relies on, and applies pending migrations.
 * WAL lets readers (status, UI) run beside the writer; synchronous=FULL makes a commit durable
 * before a change is acknowledged, which is the promise behind every 200 and 202.
 */
export function openSqlite(path: string, opts: OpenOptions = {}): Database.Database {
  if (path !== ':memory:' && path !== '') {
    const changed = makePrivate(path);
    if (changed) noticeOf(opts)(changed);
  }
  const db = new Database(path);
  settings(db);
  try {
    migrate(db, opts);
  } catch (err) {
    db.close();
    throw err;
  }
  if (path === ':memory:' || path === '') return db;
  if (opts.bulk === true) {
    bulkSettings(db);
  } else {
    // Checkpoints run beside the event loop, not inside a request's commit (checkpoints.ts). The
    // instance's close() stops them first, so every opener (the store, the CLI, the benchmarks)
    // keeps calling plain db.close() and still gets the final checkpoint.
    const checkpoints = checkpointInBackground(db, path, noticeOf(opts));
    const close = db.close.bind(db);
    db.close = () => {
      checkpoints.stop();
      return close();
    };
  }
  return db;
}

/**
 * A bulk load's connection (`tailor import`, OpenOptions.bulk): SQLite's own inline checkpoint at
 * BULK_CAP_BYTES, and none in the background. Each of the import's transactions rewrites pages
 * spread over the whole ledger (it is keyed by hash), mostly the same pages as the transactions
 * before it; a checkpoint copies each page once however many frames the WAL holds of it, so copying
 * after several transactions instead of after each (the background checkpoints' 100 ms) writes the
 * database file several times less. The WAL file may grow to about BULK_CAP_BYTES plus one
 * transaction meanwhile. A `tailor serve` on the same file still checkpoints by its own
 * settings, and its commits stay as durable as ever (synchronous=FULL on every connection).
 */
export const BULK_CAP_BYTES = 256 * 1024 * 1024;

function bulkSettings(db: Database.Database): void {
  // Half the page cache of a serving connection: a bulk load visits the ledger's pages in key
  // order, each once per transaction, so a larger cache saves it little, and the memory goes to the
  // chunk's rows instead (the import's RSS stays under 300 MB).
  db.pragma('cache_size = -32768');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${Math.ceil(BULK_CAP_BYTES / pageSize)}`);
  // What the WAL file is truncated back to after a checkpoint reset it.
  db.pragma(`journal_size_limit = ${CAP_BYTES}`);
}

/**
 * The writer thread's connection (writer-thread.ts) to a file openSqlite already opened and
 * migrated: the same settings, and SQLite's inline checkpoint only at the cap, as on the serving
 * connection (whose background checkpoints see this connection's commits by data_version).
 */
export function openWriterConnection(path: string): Database.Database {
  const db = new Database(path, { fileMustExist: true });
  settings(db);
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${Math.ceil(CAP_BYTES / pageSize)}`);
  db.pragma(`journal_size_limit = ${CAP_BYTES}`);
  return db;
}

function settings(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Deleted content is overwritten with zeros, free pages included, so an erased member's key and
  // hashes do not linger in the file's free space (docs/privacy.md). It costs a write of pages
  // that become free, which the ledger's deletes rarely cause.
  db.pragma('secure_delete = ON');
  // 64 MB of page cache (SQLite's default is 2 MB). The ledger and outbox are keyed by hash, so
  // consecutive changes land on random pages; with the default cache, an audience of a few hundred
  // thousand members turns nearly every change into page reads from the OS (bench: import rate
  // +50% at 200,000 members). Fixed size: memory stays flat however large the database grows.
  db.pragma('cache_size = -65536');
  // Another process (a `tailor migrate` or a CLI import) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
}

/** Every migration version this Tailor knows, in order (`tailor doctor` compares them with the applied ones). */
export function knownVersions(): number[] {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.*\.sql$/.test(f));
  return [...new Set([...files.map((f) => Number(f.slice(0, 4))), ...Object.keys(CODE_STEPS).map(Number)])].sort((a, b) => a - b);
}

/**
 * Applies numbered migrations in order, each in its own transaction. Returns the versions applied.
 * `upTo` stops after that version: tests use it to build a database as an older Tailor left it.
 * A new file takes them all in one transaction: each commit is a WAL fsync, and about twenty of
 * them cost `tailor serve` about 10 ms of its start-up on a new file; all or none is as safe.
 */
export function migrate(db: Database.Database, opts: OpenOptions = {}, upTo = Infinity): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const files = new Map(
    readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{4}_.*\.sql$/.test(f))
      .map((f) => [Number(f.slice(0, 4)), f] as const),
  );
  const versions = [...new Set([...files.keys(), ...Object.keys(CODE_STEPS).map(Number)])].sort((a, b) => a - b);
  const applied: number[] = [];
  const steps = (): void => {
    for (const version of versions) {
      if (done.has(version) || version > upTo) continue;
      const file = files.get(version);
      const sql = file === undefined ? null : readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
      db.transaction(() => {
        if (sql !== null) db.exec(sql);
        CODE_STEPS[version]?.(db, opts);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
        if (version === 1) db.prepare("INSERT INTO meta (key, value) VALUES ('installation_id', ?)").run(randomUUID());
      }).immediate();
      applied.push(version);
    }
  };
  if (done.size === 0) db.transaction(steps).immediate();
  else steps();
  scrubIfAsked(db, opts);
  return applied;
}

/**
 * A migration that rewrote raw values (0005: user ids and mpids) asks for this in `meta`, in its
 * own transaction: SQLite leaves old cell contents in pages and free pages, and old frames in the
 * WAL, so the raw values would still be in the files. VACUUM rewrites the database from its live
 * rows and the TRUNCATE checkpoint empties the WAL. VACUUM cannot run inside a transaction, and
 * another process may hold the file for longer than the busy timeout: then the request stays in
 * `meta` and the next open tries again.
 */
function scrubIfAsked(db: Database.Database, opts: OpenOptions): void {
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() === undefined) return;
  if (db.prepare(`SELECT 1 FROM meta WHERE key = '${SCRUB_KEY}'`).get() === undefined) return;
  try {
    db.exec('VACUUM');
    db.prepare(`DELETE FROM meta WHERE key = '${SCRUB_KEY}'`).run();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (err) {
    noticeOf(opts)(`could not yet VACUUM the database after converting member keys (${(err as Error).message}); it is tried again at the next start`);
  }
}
