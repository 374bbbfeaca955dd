/**
 * Renewals without an index by confirmation time (migration 0023, src/store/renewals.ts), on every
 * store: with confirmations spread over time, a worker that claims when nextDueAt says (and now
 * and then loses a claim or has a renewal refused) renews every hash before its deadline, and
 * nextDueAt is never later than the oldest confirmation's due time: once a pass has ended, it is
 * the bound's, the oldest confirmation the pass left behind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import type { Claim, ClaimOptions, Store } from '../../src/store/port.ts';
import { STORES, h } from './helpers.ts';

const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };
const RENEW = 1_000_000;
const FLUSH = 10_000;
const LEASE = 30_000;
const BATCH = 4;
const t0 = 1_000_000;

for (const factory of STORES) {
  describe(`store contract: renewal passes in hash order (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    /** When X last confirmed each hash, as the settles said. */
    const confirmedAt = new Map<string, number>();
    const opts = (now: number): ClaimOptions => ({
      owner: 'host:1:w',
      now,
      leaseMs: LEASE,
      flushIntervalMs: FLUSH,
      fullBatch: BATCH,
      maxChanges: BATCH,
      refreshIntervalMs: 1e12,
      renewAfterMs: RENEW,
    });
    const due = (now: number) => store.nextDueAt({ now, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: RENEW });
    const oldest = () => Math.min(...confirmedAt.values());
    const addWave = (from: number, n: number, at: number) =>
      store.applyMemberChanges(
        'a1',
        Array.from({ length: n }, (_, i) => ({
          memberKey: `m${from + i}`,
          action: 'add' as const,
          identities: [{ type: 'email' as const, hash: h(from + i) }],
        })),
        at,
      );
    /** Settles a send as X answered it (refusing `refused`), and records what it confirmed. */
    async function settle(c: Claim, now: number, refused: string[] = []): Promise<void> {
      expect(await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, renewed: c.renewals, rejectedHashes: refused }, now)).toBe(true);
      for (const x of [...c.changes.filter((ch) => ch.op === 'add').map((ch) => ch.hash), ...c.renewals]) if (!refused.includes(x)) confirmedAt.set(x, now);
    }
    /** Claims until nothing is left now; returns the claims. */
    async function drain(now: number): Promise<Claim[]> {
      const claims: Claim[] = [];
      for (let c = await store.claim(opts(now)); c !== null; c = await store.claim(opts(now))) {
        claims.push(c);
        if (c.task === 'create') {
          const x = { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] };
          await store.settleCreated(c.downstream.id, c.leaseToken, x, now);
        } else await settle(c, now);
      }
      return claims;
    }

    beforeEach(async () => {
      confirmedAt.clear();
      ({ store, cleanup } = await factory.open());
      const configId = (
        await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, t0, 'cli')
      ).configuration.id;
      await store.putAudience('a1', 'Buyers', t0, 'admin_token');
      await store.putConnection('a1', configId, EMAIL_ONLY, t0, 'admin_token');
    });
    afterEach(async () => cleanup());

    it('a pass renews what is due, counts the rest, and nextDueAt is then the oldest it left behind', async () => {
      // Three groups confirmed at t1 < t2 < t3, their hashes interleaved in hash order.
      const [t1, t2, t3] = [t0 + FLUSH, t0 + 300_000, t0 + 600_000];
      for (const [k, at] of [
        [0, t1],
        [1, t2],
        [2, t3],
      ] as const) {
        await store.applyMemberChanges(
          'a1',
          [1, 2, 3].map((i) => ({ memberKey: `m${i * 3 + k}`, action: 'add' as const, identities: [{ type: 'email' as const, hash: h(i * 3 + k) }] })),
          at - FLUSH,
        );
        await drain(at);
      }
      expect(confirmedAt.size).toBe(9);
      expect(await due(t3)).toBe(t1 + RENEW);
      expect(await store.claim(opts(t1 + RENEW - 1))).toBeNull();
      const step = await drain(t1 + RENEW);
      expect(step.flatMap((c) => c.renewals).sort()).toEqual([h(3), h(6), h(9)]);
      // The pass reached the end with renewals in flight: its end is the next step, a flush interval on.
      expect(await due(t1 + RENEW)).toBe(t1 + RENEW + FLUSH);
      expect(await drain(t1 + RENEW + FLUSH)).toEqual([]);
      // The pass left t2's hashes behind: the bound, and so the due time, is theirs.
      expect(await due(t1 + RENEW + FLUSH)).toBe(t2 + RENEW);
      expect((await drain(t2 + RENEW)).flatMap((c) => c.renewals).sort()).toEqual([h(4), h(7), h(10)]);
    });

    it('with confirmations spread over time, lost claims and refusals, no hash is renewed after its deadline', async () => {
      // X's deadline: the renewal age and some slack (two passes of 40 hashes, 4 a step, and retries).
      const deadline = RENEW + 40 * FLUSH;
      const waves = Array.from({ length: 8 }, (_, k) => ({ at: t0 + Math.floor((k * RENEW) / 8) + k * 7_919, from: k * 5 + 1, n: 5 }));
      let now = t0;
      let sends = 0;
      let lostUntil = 0;
      while (now < t0 + 4 * RENEW) {
        for (const w of waves.filter((w) => w.at <= now && w.n > 0)) {
          await addWave(w.from, w.n, now);
          w.n = 0;
        }
        const c = await store.claim(opts(now));
        if (c !== null && c.task === 'create') {
          const x = { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] };
          await store.settleCreated(c.downstream.id, c.leaseToken, x, now);
        } else if (c !== null) {
          sends += 1;
          if (sends % 5 === 0)
            lostUntil = now + LEASE; // the worker dies: nothing settles, the lease runs out
          else await settle(c, now, sends % 7 === 0 && c.renewals.length > 0 ? [c.renewals[0]!] : []);
        }
        for (const [x, at] of confirmedAt) expect(now - at, `${x} at ${now}`).toBeLessThanOrEqual(deadline);
        if (c !== null && now >= lostUntil) {
          now += 1;
          continue;
        }
        const next = await due(now);
        expect(next).not.toBeNull();
        // Never later than the oldest confirmation's due time, but for a pass's next step.
        if (confirmedAt.size > 0) expect(next!).toBeLessThanOrEqual(Math.max(oldest() + RENEW, now + FLUSH, lostUntil));
        const wave = Math.min(...waves.filter((w) => w.n > 0).map((w) => w.at));
        now = Math.max(now + 1, Math.min(next!, wave));
      }
      expect(confirmedAt.size).toBe(40);
      expect(sends).toBeGreaterThan(40);
    });
  });
}
