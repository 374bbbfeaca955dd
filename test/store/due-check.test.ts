/**
 * A full batch is due at once, however the claim decides it cheaply (src/store/sqlite/due-check.ts
 * remembers counts under the batch size): a change that fills the batch, written through this
 * store or through another connection to the same database, makes the next claim a send.
 *
 * And an idle loop's look (an empty claim, then nextDueAt: due-check.ts remembers both for the
 * state they saw) misses nothing: a write through either connection, or the clock reaching the due
 * time, makes the next claim find its work and nextDueAt answer afresh.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import type { ClaimOptions, MemberChange, Store } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { h } from './helpers.ts';
import { createTestDatabase } from './pg.ts';

const now = 1_000_000;
const FULL = 5;
const opts: ClaimOptions = {
  owner: 'host:1:w',
  // The changes below are younger than the flush interval: only a full batch makes them due.
  now: now + 1_000,
  leaseMs: 30_000,
  flushIntervalMs: 10_000,
  fullBatch: FULL,
  maxChanges: 100,
  refreshIntervalMs: 3_600_000,
};
const adds = (from: number, n: number): MemberChange[] =>
  Array.from({ length: n }, (_, i) => ({ memberKey: `m${from + i}`, action: 'add' as const, identities: [{ type: 'email' as const, hash: h(from + i) }] }));

/** Two stores on one database: two connections, as two processes would have. */
const PAIRS: { name: string; open(): Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'tailor-due-'));
      const a = SqliteStore.open(join(dir, 'tailor.db'));
      const b = SqliteStore.open(join(dir, 'tailor.db'));
      return { a, b, cleanup: async () => (await Promise.all([a.close(), b.close()]), rmSync(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      const a = await openPostgresStore(db.url);
      const b = await openPostgresStore(db.url);
      return { a, b, cleanup: async () => (await Promise.all([a.close(), b.close()]), await db.drop()) };
    },
  },
];

/** Two stores on one database, with audience a1 ("Buyers") forwarding e-mails to one X account. */
async function connected(pair: (typeof PAIRS)[number]): Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }> {
  const opened = await pair.open();
  const { a } = opened;
  const { configuration } = await a.putConfiguration(
    { name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
    now,
    'cli',
  );
  await a.putAudience('a1', 'Buyers', now, 'admin_token');
  await a.putConnection(
    'a1',
    configuration.id,
    { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false },
    now,
    'admin_token',
  );
  return opened;
}

for (const pair of PAIRS) {
  describe(`a full batch is due at once (${pair.name})`, () => {
    let cleanup: () => Promise<void> = async () => undefined;
    afterEach(async () => cleanup());

    /** Two stores, and the X audience created for the first changes (store/creation.ts), which stay pending. */
    async function ready(first: MemberChange[]): Promise<{ a: Store; b: Store }> {
      const opened = await connected(pair);
      cleanup = opened.cleanup;
      const { a } = opened;
      await a.applyMemberChanges('a1', first, now);
      const c = (await a.claim({ ...opts, now }))!;
      expect(c.task).toBe('create');
      await a.settleCreated(
        c.downstream.id,
        c.leaseToken,
        { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        now,
      );
      return opened;
    }

    it('filled through the same store', async () => {
      const { a } = await ready(adds(0, FULL - 1));
      expect(await a.claim(opts)).toBeNull();
      expect(await a.claim(opts)).toBeNull(); // looked again with nothing new: still not due
      await a.applyMemberChanges('a1', adds(FULL - 1, 1), now);
      expect(await a.claim(opts)).toMatchObject({ task: 'send', changes: { length: FULL } });
    });

    it('filled through another connection', async () => {
      const { a, b } = await ready(adds(0, FULL - 1));
      expect(await a.claim(opts)).toBeNull();
      // Written by the other connection: this one changed nothing meanwhile.
      await b.applyMemberChanges('a1', adds(FULL - 1, 1), now);
      expect(await a.claim(opts)).toMatchObject({ task: 'send', changes: { length: FULL } });
    });
  });
}

for (const pair of PAIRS) {
  describe(`an idle look misses nothing (${pair.name})`, () => {
    let cleanup: () => Promise<void> = async () => undefined;
    afterEach(async () => cleanup());

    /** One X audience on X holding one confirmed member, nothing pending: an idle loop's look finds nothing. */
    async function idle(): Promise<{ a: Store; b: Store; due: number }> {
      const opened = await connected(pair);
      cleanup = opened.cleanup;
      const { a } = opened;
      await a.applyMemberChanges('a1', adds(0, 1), now);
      const created = (await a.claim({ ...opts, now }))!;
      await a.settleCreated(
        created.downstream.id,
        created.leaseToken,
        { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        now,
      );
      const sent = (await a.claim({ ...opts, now: now + opts.flushIntervalMs }))!;
      expect(sent.task).toBe('send');
      await a.settleSent(sent.downstream.id, sent.leaseToken, { sent: sent.changes, rejectedHashes: [] }, now + opts.flushIntervalMs);
      const at = now + opts.flushIntervalMs + 1;
      // Refreshed X's size last at the creation: the next refresh is the only thing due.
      const look = { ...opts, now: at };
      expect(await a.claim(look)).toBeNull();
      const due = (await a.nextDueAt(look))!;
      expect(due).toBeGreaterThan(at);
      expect(await a.claim(look)).toBeNull();
      expect(await a.nextDueAt(look)).toBe(due);
      return { ...opened, due };
    }

    it.each(['the same store', 'another connection'] as const)('sees a change written through %s', async (through) => {
      const { a, b } = await idle();
      const at = now + opts.flushIntervalMs + 2;
      await (through === 'the same store' ? a : b).applyMemberChanges('a1', adds(1, 1), at);
      // Young (under the flush interval): due once it has waited it, and claimed then.
      expect(await a.nextDueAt({ ...opts, now: at })).toBe(at + opts.flushIntervalMs);
      expect(await a.claim({ ...opts, now: at + opts.flushIntervalMs })).toMatchObject({ task: 'send', changes: [{ hash: h(1), op: 'add' }] });
    });

    it('finds the work once the clock reaches its due time', async () => {
      const { a, due } = await idle();
      expect(await a.claim({ ...opts, now: due - 1 })).toBeNull();
      expect(await a.claim({ ...opts, now: due })).toMatchObject({ task: 'refresh' });
    });

    it('a claim under other options looks at the rows', async () => {
      const { a } = await idle();
      // With a shorter refresh interval the refresh is due already.
      expect(await a.claim({ ...opts, now: now + opts.flushIntervalMs + 1, refreshIntervalMs: 1 })).toMatchObject({ task: 'refresh' });
    });
  });
}
