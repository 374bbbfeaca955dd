/**
 * What is due when many X audiences have changes waiting, on every store: nothing before its
 * flush interval unless a full batch waits, a full batch at once, then every X audience's changes
 * exactly once, least recently claimed first. PostgreSQL decides this without an index seek per
 * downstream row and counting at most twice a full batch per claim (src/store/postgres/due-scan.ts,
 * claim.ts); SQLite remembers its counts (src/store/sqlite/due-check.ts). Both must claim the same.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import type { ClaimOptions, Store } from '../../src/store/port.ts';
import { STORES, h } from './helpers.ts';

const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };
const AUDIENCES = 12;
const WAITING = 40;
const FULL = 50;
const FLUSH = 10_000;
const t0 = 1_000_000;

for (const factory of STORES) {
  describe(`store contract: what is due with many X audiences waiting (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    /** Downstream id of audience k. */
    const downstreamOf: number[] = [];
    const opts = (now: number): ClaimOptions => ({
      owner: 'host:1:w',
      now,
      leaseMs: 30_000,
      flushIntervalMs: FLUSH,
      fullBatch: FULL,
      maxChanges: FULL,
      refreshIntervalMs: 1e12,
      renewAfterMs: 1e12,
    });
    /** Audience k's members from..from+n (hashes k * 1000 + i). */
    const add = (k: number, from: number, n: number, at: number) =>
      store.applyMemberChanges(
        `a${k}`,
        Array.from({ length: n }, (_, i) => ({
          memberKey: `m${k}-${from + i}`,
          action: 'add' as const,
          identities: [{ type: 'email' as const, hash: h(k * 1000 + from + i) }],
        })),
        at,
      );

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      const configId = (
        await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, t0, 'cli')
      ).configuration.id;
      // Each X audience created with its first member and that member sent, one after another,
      // so the claim order (least recently claimed first) is audience 0, 1, 2, ...
      for (let k = 0; k < AUDIENCES; k++) {
        await store.putAudience(`a${k}`, `Audience ${k}`, t0, 'admin_token');
        await store.putConnection(`a${k}`, configId, EMAIL_ONLY, t0, 'admin_token');
        await add(k, 0, 1, t0);
        const created = (await store.claim(opts(t0 + 2 * k)))!;
        expect(created.task).toBe('create');
        downstreamOf[k] = created.downstream.id;
        await store.settleCreated(
          created.downstream.id,
          created.leaseToken,
          { id: `x${k}`, name: downstreamName(`Audience ${k}`, 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
          t0,
        );
        const first = (await store.claim(opts(t0 + 2 * k + 1 + FLUSH)))!;
        expect(first).toMatchObject({ task: 'send', downstream: { id: created.downstream.id } });
        expect(await store.settleSent(first.downstream.id, first.leaseToken, { sent: first.changes, renewed: [], rejectedHashes: [] }, t0 + FLUSH)).toBe(true);
      }
    });
    afterEach(async () => cleanup());

    it('claims nothing early, a full batch at once, then every waiting change once, in claim order', async () => {
      const t = t0 + 100_000;
      for (let k = 0; k < AUDIENCES; k++) await add(k, 1, WAITING, t);
      // 480 changes wait, none for the flush interval, no X audience holds a full batch.
      expect(await store.claim(opts(t + 1))).toBeNull();
      expect(await store.nextDueAt({ now: t + 1, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: 1e12 })).toBe(t + FLUSH);

      // Audience 1 (second in claim order) reaches a full batch: it is sent at once, its oldest 50.
      await add(1, 1 + WAITING, 20, t + 2);
      const full = (await store.claim(opts(t + 3)))!;
      expect(full).toMatchObject({ task: 'send', downstream: { id: downstreamOf[1] } });
      expect(full.changes).toHaveLength(FULL);
      expect(await store.settleSent(full.downstream.id, full.leaseToken, { sent: full.changes, renewed: [], rejectedHashes: [] }, t + 3)).toBe(true);
      expect(await store.claim(opts(t + 4))).toBeNull(); // the other eleven still wait; audience 1 has 10 left

      // The flush interval has passed for every change: each X audience once, least recently claimed
      // first, with every change it waits for; audience 1, claimed last, comes last.
      const after = t + 2 + FLUSH;
      const order: number[] = [];
      const claimed = new Set<string>(full.changes.map((c) => c.hash));
      for (;;) {
        const c = await store.claim(opts(after));
        if (c === null) break;
        expect(c.task).toBe('send');
        order.push(c.downstream.id);
        for (const ch of c.changes) {
          expect(claimed.has(ch.hash)).toBe(false);
          claimed.add(ch.hash);
        }
        expect(c.changes).toHaveLength(c.downstream.id === downstreamOf[1] ? 10 : WAITING);
        expect(await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, renewed: [], rejectedHashes: [] }, after)).toBe(true);
      }
      expect(order).toEqual([...downstreamOf.filter((_, k) => k !== 1), downstreamOf[1]]);
      expect(claimed.size).toBe(AUDIENCES * WAITING + 20);
      expect(await store.nextDueAt({ now: after, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: 1e12 })).toBe(t0 + 1e12);
    });

    it('an idle store: nothing claimed, the next due time is the earliest refresh or renewal, whatever the number of X audiences', async () => {
      const t = t0 + 100_000;
      expect(await store.claim(opts(t))).toBeNull();
      // Refreshes every 1e12 ms from creation (t0), renewals 1e12 ms after each first send (t0 + FLUSH).
      expect(await store.nextDueAt({ now: t, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: 1e12 })).toBe(t0 + 1e12);
      expect(await store.nextDueAt({ now: t, flushIntervalMs: FLUSH, refreshIntervalMs: 2e12, renewAfterMs: 1e12 })).toBe(t0 + FLUSH + 1e12);
      // The renewal of audience 0's member comes due: that X audience alone is claimed, for it.
      const renewal = (await store.claim(opts(t0 + FLUSH + 1e12)))!;
      expect(renewal).toMatchObject({ task: 'send', changes: [], renewals: [h(0)], downstream: { id: downstreamOf[0] } });
    });
  });
}
