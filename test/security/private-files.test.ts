/**
 * The SQLite database is private to Tailor's user: its directory 0700, the database and its -wal
 * and -shm files 0600 (SQLite creates those lazily, with the database file's mode), and files left
 * looser by an older version are tightened at open with one notice naming them.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

const mode = (path: string): number => statSync(path).mode & 0o7777;
const FILES = ['tailor.db', 'tailor.db-wal', 'tailor.db-shm'];

describe('SQLite files are private', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tailor-perms-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function firstWrite(store: SqliteStore): Promise<void> {
    await store.putAudience('a', 'A', 1, 'admin_token');
    await store.applyMemberChanges('a', [{ memberKey: `email:${'1'.repeat(64)}`, action: 'add', identities: [{ type: 'email', hash: '1'.repeat(64) }] }], 1);
  }

  it('a new data directory is 0700 and the database, WAL and SHM files 0600, after open and after a first write', async () => {
    const dir = join(root, 'data', 'nested');
    const notices: string[] = [];
    const store = SqliteStore.open(join(dir, 'tailor.db'), { notice: (m) => notices.push(m) });
    try {
      expect(mode(dir)).toBe(0o700);
      expect(mode(join(root, 'data'))).toBe(0o700);
      for (const f of FILES) if (existsSync(join(dir, f))) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
      await firstWrite(store);
      for (const f of FILES) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
      expect(notices).toEqual([]); // nothing was loose: nothing to say
    } finally {
      await store.close();
    }
    // A clean close removes -wal and -shm; the next process's SQLite creates them again, lazily.
    expect(existsSync(join(dir, 'tailor.db-wal'))).toBe(false);
    const again = SqliteStore.open(join(dir, 'tailor.db'), { notice: (m) => notices.push(m) });
    try {
      await firstWrite(again);
      for (const f of FILES) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
    } finally {
      await again.close();
    }
    expect(notices).toEqual([]);
  });

  it('tightens a loose directory and loose files at open, with one notice naming them', async () => {
    const dir = join(root, 'data');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const path = join(dir, 'tailor.db');
    // As an older Tailor left it: SQLite's default 0644, and a -wal and -shm a killed process left behind.
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x)');
    old.close();
    writeFileSync(join(dir, 'tailor.db-wal'), '');
    writeFileSync(join(dir, 'tailor.db-shm'), '');
    for (const f of FILES) chmodSync(join(dir, f), 0o644);

    const notices: string[] = [];
    const store = SqliteStore.open(path, { notice: (m) => notices.push(m) });
    try {
      expect(mode(dir)).toBe(0o700);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain(`${dir} 0755 -> 0700`);
      for (const f of FILES) expect(notices[0]).toContain(`${join(dir, f)} 0644 -> 0600`);
      await firstWrite(store);
      for (const f of FILES) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
    } finally {
      await store.close();
    }
    const again: string[] = [];
    await SqliteStore.open(path, { notice: (m) => again.push(m) }).close();
    expect(again).toEqual([]);
  });

  it('leaves a shared (sticky) directory as it is, and still makes the files private', async () => {
    const dir = join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    const store = SqliteStore.open(join(dir, 'tailor.db'), { notice: () => undefined });
    try {
      await firstWrite(store);
      expect(mode(dir)).toBe(0o1777);
      for (const f of FILES) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
    } finally {
      await store.close();
    }
  });
});
