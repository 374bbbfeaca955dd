/**
 * Renewals, on every store: X holds a member 13 months after its last Update, so a hash X
 * confirmed longer ago than the renewal age is sent again (as an add) in a batch, spread over time,
 * never after it left or while its removal waits, and settling confirms it afresh.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Claim, ClaimOptions, Store } from '../../src/store/port.ts';
import { downstreamName } from '../../src/core/names.ts';
import { EMAIL_ONLY, STORES, addEmail as add, claimOptions, h, removeMember as remove } from './helpers.ts';

const RENEW = 1_000_000;
const FLUSH = 10_000;

for (const factory of STORES) {
  describe(`store contract: renewals before X's expiry (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let downstreamId: number;
    const t0 = 1_000_000;
    /** When the first batch settled: X confirmed its hashes then. */
    const sentAt = t0 + 60_000;
    const opts = (now: number, over: Partial<ClaimOptions> = {}): ClaimOptions => claimOptions({ now, flushIntervalMs: FLUSH, renewAfterMs: RENEW, ...over });

    async function send(now: number, over: Partial<ClaimOptions> = {}): Promise<Claim> {
      const c = (await store.claim(opts(now, over)))!;
      expect(c.task).toBe('send');
      expect(await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, renewed: c.renewals, rejectedHashes: [] }, now)).toBe(true);
      return c;
    }
    const downstream = async () => (await store.listDownstreams('a1')).find((d) => d.id === downstreamId)!;

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      const configId = (
        await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, t0, 'cli')
      ).configuration.id;
      await store.putAudience('a1', 'Buyers', t0, 'admin_token');
      await store.putConnection('a1', configId, EMAIL_ONLY, t0, 'admin_token');
      await store.applyMemberChanges('a1', [1, 2, 3].map(add), t0);
      const c = (await store.claim(opts(t0)))!; // created with its first members (store/creation.ts)
      expect(c.task).toBe('create');
      downstreamId = c.downstream.id;
      await store.settleCreated(
        downstreamId,
        c.leaseToken,
        { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        t0,
      );
      const first = await send(sentAt);
      expect(first.changes).toHaveLength(3);
      expect(first.renewals).toEqual([]);
    });
    afterEach(async () => cleanup());

    it('re-sends a confirmed hash once it is older than the renewal age, and settling confirms it afresh', async () => {
      expect(await store.claim(opts(sentAt + RENEW - 1))).toBeNull(); // not yet
      expect(await store.nextDueAt({ now: sentAt, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: RENEW })).toBe(sentAt + RENEW);
      // Without a renewal age nothing is ever renewed (only the far refresh is due).
      expect(await store.claim(opts(sentAt + 10 * RENEW, { renewAfterMs: undefined }))).toBeNull();
      expect(await store.nextDueAt({ now: sentAt, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12 })).toBe(t0 + 1e12);

      const renewedAt = sentAt + RENEW;
      const c = await send(renewedAt);
      expect(c.changes).toEqual([]);
      expect([...c.renewals].sort()).toEqual([h(1), h(2), h(3)]);
      expect(await downstream()).toMatchObject({ members: 3, sentAdds: 3, renewed: 3, pending: 0 });
      // Confirmed again at renewedAt: the next renewal is a whole period later.
      expect(await store.claim(opts(renewedAt + RENEW - 1))).toBeNull();
      expect(await store.nextDueAt({ now: renewedAt, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: RENEW })).toBe(renewedAt + RENEW);
      expect((await store.claim(opts(renewedAt + RENEW)))?.renewals).toHaveLength(3);
    });

    it('an add confirms too: a hash re-added after leaving waits a whole period from its new confirmation', async () => {
      await store.applyMemberChanges('a1', [remove(1)], sentAt);
      await send(sentAt + FLUSH);
      await store.applyMemberChanges('a1', [add(1)], sentAt + 500_000);
      await send(sentAt + 500_000 + FLUSH);
      const c = await send(sentAt + RENEW);
      expect([...c.renewals].sort()).toEqual([h(2), h(3)]);
      expect((await store.claim(opts(sentAt + 500_000 + FLUSH + RENEW)))?.renewals).toEqual([h(1)]);
    });

    it('never renews a hash that left or whose removal is pending, and sends the removal itself', async () => {
      const at = sentAt + RENEW;
      await store.applyMemberChanges('a1', [remove(2)], at - 1); // pending, not yet due
      const c = await send(at);
      expect(c.changes).toEqual([{ hash: h(2), op: 'remove' }]); // it goes with the renewals...
      expect([...c.renewals].sort()).toEqual([h(1), h(3)]); // ...and is not undone by one
      expect(await downstream()).toMatchObject({ members: 2, renewed: 2, sentRemoves: 1 });
      await store.applyMemberChanges('a1', [remove(3)], at + 1);
      expect(await store.claim(opts(at + RENEW))).toMatchObject({ task: 'send', changes: [{ hash: h(3), op: 'remove' }], renewals: [h(1)] });
      expect(await store.claim(opts(at + 100 * FLUSH))).toBeNull(); // h(2) left X: never renewed
    });

    it('spreads renewals: at most what is left of one batch per claim, one renewal step per flush interval', async () => {
      await store.applyMemberChanges('a1', [4, 5, 6].map(add), sentAt + 1);
      await send(sentAt + 1 + FLUSH); // confirmed later than 1-3
      const at = sentAt + 1 + FLUSH + RENEW;
      await store.applyMemberChanges('a1', [add(7)], at);
      // The new member comes first; renewals top the batch up, oldest confirmation first.
      const c = (await store.claim(opts(at, { maxChanges: 3, fullBatch: 3 })))!;
      expect(c.changes).toEqual([{ hash: h(7), op: 'add' }]);
      expect(c.renewals).toHaveLength(2);
      expect(c.renewals.every((x) => [h(1), h(2), h(3)].includes(x))).toBe(true);
      await store.settleSent(downstreamId, c.leaseToken, { sent: c.changes, renewed: c.renewals, rejectedHashes: [] }, at);
      // Four more are due, but the next renewal step waits a flush interval.
      expect(await store.claim(opts(at + FLUSH - 1, { maxChanges: 3, fullBatch: 3 }))).toBeNull();
      expect(await store.nextDueAt({ now: at, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: RENEW })).toBe(at + FLUSH);
      const next = await send(at + FLUSH, { maxChanges: 3, fullBatch: 3 });
      expect(next.renewals).toHaveLength(3);
      const last = await send(at + 2 * FLUSH, { maxChanges: 3, fullBatch: 3 });
      expect(last.renewals).toHaveLength(1);
      expect(await downstream()).toMatchObject({ members: 7, renewed: 6, sentAdds: 7 });
      expect(await store.claim(opts(at + 3 * FLUSH, { maxChanges: 3, fullBatch: 3 }))).toBeNull();
    });

    it('a renewal whose answer never came (crash, lost lease) is still held and goes again', async () => {
      const at = sentAt + RENEW;
      const lost = (await store.claim(opts(at, { leaseMs: 1_000 })))!;
      expect(lost.renewals).toHaveLength(3);
      // The worker dies; its lease expires. The hashes stay confirmed members: present either way.
      expect(await downstream()).toMatchObject({ members: 3 });
      const again = (await store.claim(opts(at + FLUSH)))!;
      expect([...again.renewals].sort()).toEqual([h(1), h(2), h(3)]);
      expect(await store.settleSent(downstreamId, lost.leaseToken, { sent: [], renewed: lost.renewals, rejectedHashes: [] }, at + FLUSH)).toBe(false);
      expect(await store.settleSent(downstreamId, again.leaseToken, { sent: [], renewed: again.renewals, rejectedHashes: [] }, at + FLUSH)).toBe(true);
      expect(await downstream()).toMatchObject({ members: 3, renewed: 3 });
    });

    it('a renewal X refused item by item waits a period instead of being refused again at once', async () => {
      const at = sentAt + RENEW;
      const c = (await store.claim(opts(at)))!;
      await store.settleRejected(downstreamId, c.leaseToken, [h(2)], 'X refused one', at);
      const d = await downstream();
      expect([d.rejected, d.members]).toEqual([1, 3]);
      const next = (await store.claim(opts(at + FLUSH)))!;
      expect([...next.renewals].sort()).toEqual([h(1), h(3)]);
      await store.settleSent(downstreamId, next.leaseToken, { sent: [], renewed: next.renewals, rejectedHashes: [] }, at + FLUSH);
      expect(await store.claim(opts(at + 2 * FLUSH))).toBeNull();
    });

    it('a renewal refused in a settled batch is not confirmed afresh', async () => {
      const at = sentAt + RENEW;
      const c = (await store.claim(opts(at)))!;
      await store.settleSent(downstreamId, c.leaseToken, { sent: [], renewed: c.renewals, rejectedHashes: [h(3)] }, at);
      expect(await downstream()).toMatchObject({ renewed: 2, rejected: 1 });
      expect((await store.claim(opts(at + FLUSH)))?.renewals).toEqual([h(3)]);
    });

    it('re-creation after X lost the audience starts at the suffix the worker gives', async () => {
      const c = (await store.claim(opts(sentAt + 1, { refreshIntervalMs: 1 })))!;
      expect(c.task).toBe('refresh');
      await store.settleNotFound(downstreamId, c.leaseToken, 'deleted on X', sentAt + 1, 2);
      expect(await downstream()).toMatchObject({ state: 'recreating', nameSuffix: 2, members: 0, pending: 3 });
      const create = (await store.claim(opts(sentAt + 2)))!;
      expect([create.task, create.downstream.nameSuffix]).toEqual(['create', 2]);
    });
  });
}
