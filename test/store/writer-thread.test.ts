/**
 * The SQLite writer thread (src/store/sqlite/writer.ts): a serving store's writes run in a worker
 * thread with its own connection, and the serving thread's promise still means durable.
 *
 * - A call is answered only after its commit: a second connection to the file sees the change as
 *   soon as the promise resolves.
 * - A transaction that fails fails its callers (with the error's own class), and one that cannot
 *   even begin (the file locked by another process) fails its waiting calls instead of retrying.
 * - One audience's changes are applied in the order of their calls, a big call in pieces included.
 * - The thread dying fails the calls waiting on it with StoreUnavailableError, and the next call
 *   starts a new thread.
 * - The alert watch reads on the serving connection and writes in the thread, and two stores on one
 *   file (two processes) watching at once raise a transition once.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERASURE_DUE_MS, alertRule } from '../../src/alerts/rule.ts';
import { StoreUnavailableError } from '../../src/core/errors.ts';
import type { MemberChange } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { h } from './helpers.ts';

const now = 1_000_000;
const add = (i: number): MemberChange => ({ memberKey: `m${i}`, action: 'add', identities: [{ type: 'email', hash: h(i) }] });
const remove = (i: number): MemberChange => ({ memberKey: `m${i}`, action: 'remove', identities: [] });

describe('the SQLite writer thread', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;
  let other: Database.Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tailor-writer-'));
    path = join(dir, 'tailor.db');
    store = SqliteStore.open(path);
    other = new Database(path, { readonly: true });
    await store.putAudience('a1', 'Buyers', now, 'admin_token');
  });

  afterEach(async () => {
    other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const members = (audienceId: string): number => other.prepare('SELECT COUNT(*) FROM members WHERE audience_id = ?').pluck().get(audienceId) as number;

  it('runs the writes in a thread, and answers once they are committed', async () => {
    expect(store.writer).not.toBeNull();
    await store.applyMemberChanges('a1', [add(1), add(2)], now);
    // Another connection sees the change as soon as the call is answered: it was committed first.
    expect(members('a1')).toBe(2);
    // A big call, posted in pieces, is answered once all of it is in.
    await store.applyMemberChanges(
      'a1',
      Array.from({ length: 5_000 }, (_, i) => add(100 + i)),
      now,
    );
    expect(members('a1')).toBe(5_002);
    expect(await store.countMembers('a1')).toBe(5_002);
  });

  it('keeps the serving connection read-only', async () => {
    expect(() => (store as unknown as { db: Database.Database }).db.prepare("INSERT INTO meta (key, value) VALUES ('x', 'y')").run()).toThrow(
      /readonly|read-only|query_only/i,
    );
  });

  it('fails the callers of a failing transaction with its own error, and goes on', async () => {
    // A hash that is not one: the transaction throws, and the caller gets the error's own class.
    const bad: MemberChange = { memberKey: 'm0', action: 'add', identities: [{ type: 'email', hash: 'not a hash' }] };
    const err = await store.applyMemberChanges('a1', [add(5), bad], now).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/64 lower-case hex/);
    // Rolled back whole, and the thread keeps working afterwards.
    expect(members('a1')).toBe(0);
    await store.applyMemberChanges('a1', [add(7)], now);
    expect(members('a1')).toBe(1);
  });

  it('fails the waiting calls when no transaction can begin (the file locked elsewhere)', async () => {
    const locker = new Database(path);
    locker.pragma('busy_timeout = 0');
    locker.exec('BEGIN IMMEDIATE');
    try {
      // busy_timeout is 5 s on the writer's connection: the call fails then, it does not wait forever.
      const err = await store.applyMemberChanges('a1', [add(1)], now).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/SQLITE_BUSY/);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    await store.applyMemberChanges('a1', [add(1)], now);
    expect(members('a1')).toBe(1);
  }, 20_000);

  it("keeps the order of one audience's calls, a big call in pieces too", async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => add(i));
    // Sent without waiting: the removal of m19999 comes after the big call that adds it.
    const first = store.applyMemberChanges('a1', big, now);
    const second = store.applyMemberChanges('a1', [remove(19_999)], now + 1);
    // Another audience's small call does not wait for the big one's pieces.
    await store.putAudience('a2', 'Others', now, 'admin_token');
    const other2 = store.applyMemberChanges('a2', [add(1)], now);
    expect(await Promise.race([other2.then(() => 'small'), first.then(() => 'big')])).toBe('small');
    await Promise.all([first, second, other2]);
    expect(members('a1')).toBe(19_999);
  }, 60_000);

  it("applies two audiences' big calls posted in pieces at once, each whole", async () => {
    await store.putAudience('a2', 'Others', now, 'admin_token');
    const big = (from: number) => Array.from({ length: 12_000 }, (_, i) => add(from + i));
    // Both are posted a few pieces ahead of the thread (writer.ts PIECES_AHEAD), taking turns.
    await Promise.all([store.applyMemberChanges('a1', big(0), now), store.applyMemberChanges('a2', big(100_000), now)]);
    expect(members('a1')).toBe(12_000);
    expect(members('a2')).toBe(12_000);
  }, 60_000);

  it('surfaces a dead thread as an error, not a hang, and starts a new one', async () => {
    const waiting = store.applyMemberChanges(
      'a1',
      Array.from({ length: 1_000 }, (_, i) => add(i)),
      now,
    );
    await store.writer!.kill();
    await expect(waiting).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.applyMemberChanges('a1', [add(50_000)], now);
    expect(members('a1')).toBeGreaterThanOrEqual(1);
  });

  it('watches alerts from the serving thread, and two stores on one file raise a transition once', async () => {
    const second = SqliteStore.open(path);
    try {
      const watch = (s: SqliteStore, at: number) =>
        s.watchAlerts(at, { deliver: true, erasuresOverdueBefore: at - ERASURE_DUE_MS }, (seen, previous) =>
          alertRule(seen, previous, { now: at, alertAfterMs: 60_000 }),
        );
      const { configuration: c } = await store.putConfiguration(
        { name: 'Acme', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
        now,
        'cli',
      );
      await watch(store, now + 1);
      await store.setConfigurationState(c.id, 'needs_reauth', 'revoked', now + 2, 'worker');
      const raised = await Promise.all([watch(store, now + 3), watch(second, now + 3), watch(store, now + 3), watch(second, now + 3)]);
      expect(raised.flat().map((e) => e.type)).toEqual(['configuration.needs_reauth']);
      expect(other.prepare("SELECT COUNT(*) FROM webhook_events WHERE type = 'configuration.needs_reauth'").pluck().get()).toBe(1);
      expect(await watch(second, now + 4)).toEqual([]);
    } finally {
      await second.close();
    }
  }, 20_000);
});
