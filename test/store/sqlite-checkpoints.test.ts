/**
 * SQLite checkpoints off the request path (src/store/sqlite/checkpoints.ts): a commit does not
 * checkpoint below the cap, the timer's worker does within seconds, the WAL stays bounded under
 * back-to-back writes where timers never run, and closing leaves no WAL behind. The crash test
 * (test/reliability/crash.e2e.test.ts) checks that nothing acknowledged is lost meanwhile.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CAP_BYTES } from '../../src/store/sqlite/checkpoints.ts';
import { openSqlite } from '../../src/store/sqlite/open.ts';
import { waitFor } from '../support/wait.ts';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tailor-checkpoints-'));
  path = join(dir, 'tailor.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** One transaction of `rows` random keys: each lands on a random page, like ledger and outbox rows. */
function write(db: Database.Database, rows: number): void {
  const insert = db.prepare('INSERT INTO pages (k, v) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i += 1) insert.run(Math.random().toString(36), 'x'.repeat(200));
  }).immediate();
}

describe('SQLite checkpoints', () => {
  it('a commit past 1,000 pages does not checkpoint; the background worker does, soon after', async () => {
    const db = openSqlite(path);
    db.exec('CREATE TABLE pages (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    const before = statSync(path).size;
    // About 2,000 pages: SQLite's default would checkpoint inside this commit.
    write(db, 30_000);
    expect(statSync(path).size).toBe(before);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1_000 * 4096);
    // Copied into the database file by the worker, with no call from this connection.
    await waitFor('a background checkpoint', async () => statSync(path).size > before, 10_000);
    db.close();
  });

  it('the WAL stays under the cap plus one transaction when writes come back to back', () => {
    const db = openSqlite(path);
    db.exec('CREATE TABLE pages (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    let largest = 0;
    let previous = 0;
    let oneTransaction = 0;
    // Some 100 MB of WAL frames without ever yielding to the event loop: the timer never fires.
    for (let i = 0; i < 20; i += 1) {
      write(db, 20_000);
      const size = statSync(`${path}-wal`).size;
      oneTransaction = Math.max(oneTransaction, size - previous);
      largest = Math.max(largest, size);
      previous = size;
    }
    // Without the cap (wal_autocheckpoint = 0) it would pass 100 MB. The slack: the transaction
    // that crosses the cap may be larger than the growth measured (a reset WAL is overwritten
    // from its start without growing the file).
    expect(largest).toBeGreaterThan(CAP_BYTES);
    expect(largest).toBeLessThanOrEqual(CAP_BYTES + 2 * oneTransaction);
    db.close();
  });

  it('closing checkpoints and removes the WAL, with the worker started or not', async () => {
    for (const waitForWorker of [false, true]) {
      const db = openSqlite(path);
      db.exec('CREATE TABLE IF NOT EXISTS pages (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
      write(db, 5_000);
      if (waitForWorker) {
        const size = statSync(path).size;
        write(db, 20_000);
        await waitFor('a background checkpoint', async () => statSync(path).size > size, 10_000);
      }
      db.close();
      expect(existsSync(`${path}-wal`)).toBe(false);
      // Everything committed is in the database file itself.
      const reader = new Database(path, { readonly: true });
      expect(reader.prepare('SELECT COUNT(*) FROM pages').pluck().get()).toBe(waitForWorker ? 30_000 : 5_000);
      reader.close();
    }
  });
});
