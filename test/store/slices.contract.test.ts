/**
 * Big work in slices (issue 13, speed 3): on SQLite, a request's changes, a claim and a settle run
 * as several short transactions with the event loop free between them. What callers see must not
 * change with that, on either store: a big ingest is answered once all of it is durable; a claim
 * holds each pending hash once, oldest first, even when a request rewrites its rows while it is
 * being made; a settle cut short between two slices loses nothing and sends nothing twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import type { ClaimOptions, MemberChange, Store } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { openSqlite } from '../../src/store/sqlite/open.ts';
import { settleSent } from '../../src/store/sqlite/settle-sent.ts';
import { STORES, h } from './helpers.ts';

const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };
const now = 1_000_000;
const opts = (over: Partial<ClaimOptions> = {}): ClaimOptions => ({
  owner: 'host:1:w',
  now: now + 60_000,
  leaseMs: 30_000,
  flushIntervalMs: 10_000,
  fullBatch: 100_000,
  maxChanges: 100_000,
  refreshIntervalMs: 3_600_000,
  ...over,
});
const config = { name: 'c', accountId: 'acc1', accountName: 'Acme', xUserId: '7', screenName: 'acme', tokens: 'sealed' };
const adds = (from: number, n: number, at = 'add' as 'add' | 'remove'): MemberChange[] =>
  Array.from({ length: n }, (_, i) => ({ memberKey: `m${from + i}`, action: at, identities: [{ type: 'email' as const, hash: h(from + i) }] }));

async function seed(store: Store): Promise<void> {
  const configId = (await store.putConfiguration(config, now, 'cli')).configuration.id;
  await store.putAudience('a1', 'Buyers', now, 'admin_token');
  await store.putConnection('a1', configId, EMAIL_ONLY, now, 'admin_token');
}

/** Fakes X's creation of the e-mail audience, due once it has members to send (store/creation.ts). */
async function createdOnX(store: Store): Promise<number> {
  const c = (await store.claim(opts()))!;
  expect(c.task).toBe('create');
  await store.settleCreated(
    c.downstream.id,
    c.leaseToken,
    { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
    now,
  );
  return c.downstream.id;
}

/** The seed, one member, and its X audience created: the next claim of a1 is a send. */
async function withOneMemberOnX(store: Store): Promise<void> {
  await seed(store);
  await store.applyMemberChanges('a1', adds(0, 1), now);
  await createdOnX(store);
}

/** Counts how often a timer ran while `work` was under way: 0 means the work held the event loop throughout. */
async function ticksDuring<T>(work: () => Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    ticks += 1;
    setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  try {
    return { value: await work(), ticks };
  } finally {
    running = false;
  }
}

const N = 12_000;

for (const factory of STORES) {
  describe(`big work in slices (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      await seed(store);
    });
    afterEach(async () => cleanup());

    it('a big ingest lets timers run, and is all durable when it resolves', async () => {
      const { value, ticks } = await ticksDuring(() => store.applyMemberChanges('a1', adds(0, N), now, { invalid_email: 3 }));
      expect(value.queued).toBe(N);
      if (store.dialect === 'sqlite') expect(ticks).toBeGreaterThan(1);
      expect(await store.countMembers('a1')).toBe(N);
      expect(await store.listRejections('a1')).toEqual([{ reason: 'invalid_email', count: 3, lastAt: now }]);
    });

    it('concurrent ingests (grouped into shared transactions on SQLite) each resolve with their own result', async () => {
      const calls = Array.from({ length: 20 }, (_, k) => store.applyMemberChanges('a1', adds(k * 50, 50), now, { invalid_email: 1 }));
      const results = await Promise.all(calls);
      expect(results.map((r) => r.queued)).toEqual(Array.from({ length: 20 }, () => 50));
      expect(await store.countMembers('a1')).toBe(1000);
      expect(await store.listRejections('a1')).toEqual([{ reason: 'invalid_email', count: 20, lastAt: now }]);
    });

    it('a small ingest queued behind a big one is not held until the big one ends', async () => {
      const order: string[] = [];
      const big = store.applyMemberChanges('a1', adds(0, N), now).then(() => order.push('big'));
      await store.putAudience('a2', 'Others', now, 'admin_token');
      // Another audience's: one audience's calls are applied in their order (writer-thread.test.ts).
      const small = store.applyMemberChanges('a2', adds(N, 10), now).then(() => order.push('small'));
      await Promise.all([big, small]);
      if (store.dialect === 'sqlite') expect(order).toEqual(['small', 'big']);
      expect(await store.countMembers('a1')).toBe(N);
      expect(await store.countMembers('a2')).toBe(10);
    });

    it('a claim lets timers run, and holds each pending hash once, oldest first, though a request rewrites rows meanwhile', async () => {
      await store.applyMemberChanges('a1', adds(0, N / 2), now);
      await store.applyMemberChanges('a1', adds(N / 2, N / 2), now + 1);
      const downstreamId = await createdOnX(store);
      // A request lands while the claim is being made: it rewrites the oldest row (likely already
      // taken) and the newest (likely not yet), and adds a hash.
      let rewritten = false;
      const claiming = ticksDuring(() => store.claim(opts()));
      setImmediate(() => {
        void store.applyMemberChanges('a1', [...adds(0, 1, 'remove'), ...adds(N - 1, 1, 'remove'), ...adds(N, 1)], now + 2).then(() => (rewritten = true));
      });
      const { value: claim, ticks } = await claiming;
      if (store.dialect === 'sqlite') expect(ticks).toBeGreaterThan(1);
      const hashes = claim!.changes.map((c) => c.hash);
      expect(new Set(hashes).size).toBe(hashes.length);
      expect(hashes.length).toBeGreaterThanOrEqual(N - 2);
      // h(0) is first if the claim took it before the request landed; on PostgreSQL (one statement,
      // not sliced) the request may land first, and h(0)'s add and remove are then one no-op.
      const took0 = hashes.includes(h(0));
      if (took0) expect(hashes[0]).toBe(h(0));
      expect(hashes.filter((x) => x !== h(0)).slice(0, 99)).toEqual(Array.from({ length: 99 }, (_, i) => h(i + 1)));
      await (async () => {
        while (!rewritten) await new Promise((r) => setImmediate(r));
      })();
      expect(await store.settleSent(downstreamId, claim!.leaseToken, { sent: claim!.changes, rejectedHashes: [] }, now + 3)).toBe(true);
      // Whatever the claim took, one more claim and settle leave X's ledger with every hash but the
      // two removed ones.
      const rest = await store.claim(opts({ now: now + 120_000 }));
      if (rest) await store.settleSent(downstreamId, rest.leaseToken, { sent: rest.changes, rejectedHashes: [] }, now + 4);
      // If h(0) went out as an add, its remove is sent after; if not, X never hears of it. h(N - 1)'s
      // remove is sent too, or dropped as a no-op if its add had not been taken yet (X never had it).
      const sent = [...claim!.changes, ...(rest?.changes ?? [])];
      const sentRemoves = sent.filter((c) => c.op === 'remove').map((c) => c.hash);
      if (took0) expect(sentRemoves).toContain(h(0));
      else expect(sent.map((c) => c.hash)).not.toContain(h(0));
      expect(await store.claim(opts({ now: now + 180_000 }))).toBeNull();
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ members: N - 1, pending: 0 });
    });
  });
}

/** A fresh directory for each test's SQLite file, removed after it. */
function dirPerTest(): () => string {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tailor-slices-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

describe('a settle cut short between slices (sqlite)', () => {
  const dir = dirPerTest();

  it('leaves the settled part exact, and the rest is claimed again once the lease expires', async () => {
    const db = openSqlite(join(dir(), 'tailor.db'));
    const store = new SqliteStore(db);
    try {
      await seed(store);
      await store.applyMemberChanges('a1', adds(0, 10), now);
      const downstreamId = await createdOnX(store);
      const claim = (await store.claim(opts()))!;
      expect(claim.changes).toHaveLength(10);
      // Three slices of one change each (deadline already past), then the process "dies".
      let next = 0;
      for (let k = 0; k < 3; k++)
        next = settleSent(db, downstreamId, claim.leaseToken, { sent: claim.changes, rejectedHashes: [] }, now, next, () => true) as number;
      expect(next).toBe(3);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ members: 3, sentAdds: 3, pending: 7 });
      // Another worker after the lease's expiry takes the seven not yet settled, nothing more.
      const again = (await store.claim(opts({ now: now + 60_000 + 31_000, owner: 'host:2:w' })))!;
      expect(again.changes.map((c) => c.hash)).toEqual(Array.from({ length: 7 }, (_, i) => h(i + 3)));
      // The first worker's late slices settle nothing: its lease is gone.
      expect(settleSent(db, downstreamId, claim.leaseToken, { sent: claim.changes, rejectedHashes: [] }, now, next)).toBe(false);
      expect(await store.settleSent(downstreamId, again.leaseToken, { sent: again.changes, rejectedHashes: [] }, now)).toBe(true);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ members: 10, sentAdds: 10, pending: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('the order of calls in the SQLite writer (sqlite)', () => {
  const dir = dirPerTest();

  it('applies a call that arrives while a big one is part done before any further slice of the big one', async () => {
    const store = new SqliteStore(openSqlite(join(dir(), 'tailor.db')));
    try {
      await seed(store);
      await store.putAudience('a2', 'Others', now, 'admin_token');
      // The big call's first slice runs at once; the small call joins the queue behind it.
      const big = store.applyMemberChanges('a1', adds(0, 20_000), now);
      const small = store.applyMemberChanges('a2', adds(50_000, 10), now);
      const before = await store.countMembers('a1');
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(20_000);
      // What the big call had committed when the small one was answered: still its first slice.
      const atSmall = await small.then(() => store.countMembers('a1'));
      expect(atSmall).toBe(before);
      await big;
      expect(await store.countMembers('a1')).toBe(20_000);
      expect(await store.countMembers('a2')).toBe(10);
    } finally {
      await store.close();
    }
  });

  it('applies a member change posted with a claim before the claim starts', async () => {
    const store = SqliteStore.open(join(dir(), 'tailor.db'));
    try {
      await withOneMemberOnX(store);
      const first = (await store.claim(opts()))!;
      await store.settleSent(first.downstream.id, first.leaseToken, { sent: first.changes, renewed: first.renewals, rejectedHashes: [] }, now);
      await store.putAudience('a2', 'Others', now, 'admin_token');
      // The thread busy with another audience's call (one message: not in pieces) while the claim
      // and the change arrive: it takes both in at once when its transaction ends.
      const busy = store.applyMemberChanges('a2', adds(100_000, 400), now);
      const claim = store.claim(opts());
      const change = store.applyMemberChanges('a1', adds(1, 5), now);
      await change;
      // The sync loop's claim, taken in with the change, started after it, so it holds the change.
      expect((await claim)?.changes.map((c) => c.hash)).toEqual(Array.from({ length: 5 }, (_, i) => h(1 + i)));
      await busy;
    } finally {
      await store.close();
    }
  }, 30_000);

  it('answers a claim while a big call and a small call held behind it, of one audience, are applied', async () => {
    const store = SqliteStore.open(join(dir(), 'tailor.db'));
    try {
      await withOneMemberOnX(store);
      // The big call takes many slices; the small one of its audience waits for all of them (its
      // changes come after the big call's). The sync loop's claim waits for neither.
      const big = store.applyMemberChanges('a1', adds(1_000, 200_000), now);
      let bigDone = false;
      void big.then(() => (bigDone = true));
      const small = store.applyMemberChanges('a1', adds(500_000, 5), now);
      // Once the big call is part done, the small one is held behind it.
      await vi.waitFor(async () => expect(await store.countMembers('a1')).toBeGreaterThan(1), { timeout: 20_000, interval: 5 });
      const claim = await store.claim(opts());
      expect(claim, 'a claim, with the member the big call found committed').not.toBeNull();
      expect(bigDone, 'the claim was answered before the big call ended').toBe(false);
      await Promise.all([big, small]);
      expect(await store.countMembers('a1')).toBe(200_006);
    } finally {
      await store.close();
    }
  }, 60_000);
});
