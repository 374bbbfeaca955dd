/**
 * The audience tools on every store (issue 18): the send cadence of a connection, resyncs on
 * demand, deletions held back by campaigns (and forced), the lookup of an identity and the dry
 * run's preview, which writes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import { lookupState } from '../../src/services/lookup.ts';
import type { Claim, ClaimOptions, Store } from '../../src/store/port.ts';
import { EMAIL_ONLY, STORES, addEmail as add, claimOptions, h, removeMember as remove } from './helpers.ts';

const FLUSH = 10_000;
const MINUTE = 60_000;

for (const factory of STORES) {
  describe(`store contract: audience tools (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let configId: string;
    let downstreamId: number;
    const t0 = 1_000_000;
    const opts = (now: number, over: Partial<ClaimOptions> = {}): ClaimOptions => claimOptions({ now, flushIntervalMs: FLUSH, ...over });
    const settle = async (c: Claim, now: number, rejectedHashes: string[] = []) =>
      expect(
        await store.settleSent(
          c.downstream.id,
          c.leaseToken,
          { sent: c.changes, renewed: c.renewals, rejectedHashes, ...(c.resyncCursor ? { resyncCursor: c.resyncCursor } : {}) },
          now,
        ),
      ).toBe(true);
    const downstream = async () => (await store.listDownstreams('a1')).find((d) => d.id === downstreamId)!;

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      configId = (
        await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, t0, 'cli')
      ).configuration.id;
      await store.putAudience('a1', 'Buyers', t0, 'admin_token');
      await store.putConnection('a1', configId, EMAIL_ONLY, t0, 'admin_token');
    });
    afterEach(async () => cleanup());

    /** Fakes X's creation of the e-mail audience, due once it has a member to send (store/creation.ts). */
    async function createOnX(): Promise<void> {
      const c = (await store.claim(opts(t0)))!;
      expect(c.task).toBe('create');
      downstreamId = c.downstream.id;
      await store.settleCreated(
        downstreamId,
        c.leaseToken,
        { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        t0,
      );
    }

    it('a cadence sends changes at most once per interval; a full batch keeps the window open until the backlog is out', async () => {
      const k = await store.putConnection('a1', configId, { ...EMAIL_ONLY, sendIntervalMinutes: 60 }, t0, 'admin_token');
      expect(k.connection.sendIntervalMinutes).toBe(60);
      // Left out, the cadence is kept; the toggles are as given.
      expect((await store.putConnection('a1', configId, EMAIL_ONLY, t0, 'admin_token')).connection.sendIntervalMinutes).toBe(60);
      await store.applyMemberChanges('a1', [1, 2, 3].map(add), t0);
      await createOnX();
      // The first send goes as soon as it is due (the window is open), a batch of 2 of 3: still open.
      const first = (await store.claim(opts(t0 + FLUSH, { maxChanges: 2, fullBatch: 2 })))!;
      expect(first.changes).toHaveLength(2);
      await settle(first, t0 + FLUSH);
      const second = (await store.claim(opts(t0 + FLUSH, { maxChanges: 2, fullBatch: 2 })))!;
      expect(second.changes).toHaveLength(1); // drained: the next window opens an hour later
      await settle(second, t0 + FLUSH);
      expect((await downstream()).nextSendAt).toBe(t0 + FLUSH + 60 * MINUTE);

      await store.applyMemberChanges('a1', [remove(1), add(4)], t0 + 2 * FLUSH);
      expect(await store.claim(opts(t0 + 10 * MINUTE))).toBeNull(); // due by age, but the window is closed
      expect(await store.nextDueAt({ now: t0 + 10 * MINUTE, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12 })).toBe(t0 + FLUSH + 60 * MINUTE);
      const third = (await store.claim(opts(t0 + FLUSH + 60 * MINUTE)))!;
      expect([...third.changes].sort((a, b) => a.hash.localeCompare(b.hash))).toEqual([
        { hash: h(1), op: 'remove' },
        { hash: h(4), op: 'add' },
      ]);
      await settle(third, t0 + FLUSH + 60 * MINUTE);

      // Back to near real time: changes go after the flush interval again.
      await store.putConnection('a1', configId, { ...EMAIL_ONLY, sendIntervalMinutes: null }, t0 + 61 * MINUTE, 'admin_token');
      await store.applyMemberChanges('a1', [add(5)], t0 + 61 * MINUTE);
      expect((await store.claim(opts(t0 + 61 * MINUTE + FLUSH)))?.changes).toEqual([{ hash: h(5), op: 'add' }]);
    });

    it('a resync sends every hash X holds again, never one that left or whose removal waits, and ends', async () => {
      await store.applyMemberChanges('a1', [1, 2, 3, 4].map(add), t0);
      await createOnX();
      await settle((await store.claim(opts(t0 + FLUSH)))!, t0 + FLUSH);
      await store.applyMemberChanges('a1', [remove(4)], t0 + 2 * FLUSH);
      await settle((await store.claim(opts(t0 + 3 * FLUSH)))!, t0 + 3 * FLUSH);
      await store.applyMemberChanges('a1', [remove(3)], t0 + 4 * FLUSH); // pending, not yet due

      expect(await store.requestResync('a1', 'nope', t0 + 4 * FLUSH, 'admin_token')).toBeNull();
      expect(await store.requestResync('a1', configId, t0 + 4 * FLUSH, 'admin_token')).toBe(1);
      expect((await downstream()).resyncRemaining).toBe(3);
      expect((await downstream()).resyncTotal).toBe(3);
      expect(await store.nextDueAt({ now: t0 + 4 * FLUSH, flushIntervalMs: FLUSH, refreshIntervalMs: 1e12 })).toBeLessThanOrEqual(t0 + 4 * FLUSH);
      // Packed like any batch, two per claim here; a pending change goes with it (the window is
      // open), and the hash whose removal waits is neither resent nor undone.
      const a = (await store.claim(opts(t0 + 4 * FLUSH, { maxChanges: 2, fullBatch: 2 })))!;
      expect(a).toMatchObject({ task: 'send', changes: [{ hash: h(3), op: 'remove' }] });
      expect(a.renewals).toHaveLength(1);
      await settle(a, t0 + 4 * FLUSH + 1);
      expect(await downstream()).toMatchObject({ resyncRemaining: 2, resyncTotal: 3, members: 2 });
      const b = (await store.claim(opts(t0 + 4 * FLUSH + 2, { maxChanges: 2, fullBatch: 2 })))!;
      expect([...a.renewals, ...b.renewals].sort()).toEqual([h(1), h(2)]);
      await settle(b, t0 + 4 * FLUSH + 3);
      // h(3) left meanwhile: one of the three is never sent again, and the resync ends all the same.
      expect(await downstream()).toMatchObject({ resyncRemaining: 1, renewed: 2 });
      // Nothing left to resend: the resync ends.
      expect(await store.claim(opts(t0 + 4 * FLUSH + 4))).toBeNull();
      expect((await downstream()).resyncBefore).toBeNull();
    });

    it('a resync goes at once under a cadence, without sending the changes early; a refused hash does not loop', async () => {
      await store.applyMemberChanges('a1', [1, 2].map(add), t0);
      await createOnX();
      await store.putConnection('a1', configId, { ...EMAIL_ONLY, sendIntervalMinutes: 60 }, t0, 'admin_token');
      await settle((await store.claim(opts(t0 + FLUSH)))!, t0 + FLUSH);
      await store.applyMemberChanges('a1', [add(3)], t0 + 2 * FLUSH);
      await store.requestResync('a1', configId, t0 + 2 * FLUSH, 'admin_token');
      const c = (await store.claim(opts(t0 + 3 * FLUSH)))!;
      expect(c.changes).toEqual([]); // h(3) waits for the window
      expect([...c.renewals].sort()).toEqual([h(1), h(2)]);
      await settle(c, t0 + 3 * FLUSH, [h(2)]); // X refused h(2) by name
      expect(await store.claim(opts(t0 + 3 * FLUSH))).toBeNull(); // and the resync ended
      expect((await downstream()).resyncBefore).toBeNull();
      expect((await store.claim(opts(t0 + FLUSH + 60 * MINUTE)))?.changes).toEqual([{ hash: h(3), op: 'add' }]);
    });

    it('a deletion held back by campaigns waits, names them, and goes once forced', async () => {
      await store.applyMemberChanges('a1', [add(1)], t0);
      await createOnX();
      expect(await store.deleteAudience('a1', t0 + 1, 'admin_token')).toBe(true);
      const c = (await store.claim(opts(t0 + 2)))!;
      expect(c).toMatchObject({ task: 'delete', downstream: { deleteForce: false } });
      const campaigns = [{ campaignId: 'c1', campaignName: 'Spring sale', lineItems: [{ id: 'l1', name: 'Feed', servable: true }] }];
      expect(await store.holdDeletion(c.downstream.id, c.leaseToken, campaigns, t0 + 3, t0 + 3 + 15 * MINUTE)).toBe(true);
      expect(await store.listDeletions()).toEqual([expect.objectContaining({ audienceId: 'a1', xAudienceId: 'x1', force: false, blockedBy: campaigns })]);
      expect(await store.claim(opts(t0 + 4))).toBeNull(); // waits for the next look
      expect(await store.forceDeletions('a1', t0 + 5, 'admin_token')).toBe(1);
      const forced = (await store.claim(opts(t0 + 6)))!;
      expect(forced).toMatchObject({ task: 'delete', downstream: { deleteForce: true } });
      expect(await store.settleDeleted(forced.downstream.id, forced.leaseToken, Date.now())).toBe(true);
      expect(await store.listDeletions()).toEqual([]);
      expect(await store.forceDeletions('a1', t0 + 7, 'admin_token')).toBe(0);
    });

    it('a deletion asked with force is marked so from the start', async () => {
      await store.applyMemberChanges('a1', [add(1)], t0);
      await createOnX();
      expect(await store.deleteAudience('a1', t0 + 1, 'admin_token', { force: true })).toBe(true);
      expect((await store.claim(opts(t0 + 2)))?.downstream.deleteForce).toBe(true);
    });

    it('the lookup says where an identity is, in each state', async () => {
      await store.putAudience('a2', 'Other', t0, 'admin_token');
      await store.applyMemberChanges('a1', [1, 2].map(add), t0);
      await store.applyMemberChanges('a2', [add(1)], t0); // a2 has no connection
      await createOnX();
      const sent = (await store.claim(opts(t0 + FLUSH)))!;
      await settle(sent, t0 + FLUSH);
      await store.applyMemberChanges('a1', [remove(2), add(3)], t0 + 2 * FLUSH);
      const rows = await store.lookup([
        { type: 'email', hash: h(1) },
        { type: 'email', hash: h(2) },
        { type: 'email', hash: h(3) },
        { type: 'email', hash: h(9) },
        { type: 'handle', hash: h(1) },
      ]);
      const of = (hash: string, audience: string) => rows.filter((r) => r.hash === hash && r.audienceId === audience);
      expect(of(h(1), 'a1')).toEqual([
        expect.objectContaining({
          identityType: 'email',
          holders: 1,
          forwarding: true,
          downstream: expect.objectContaining({ xAudienceId: 'x1', onX: 'confirmed', confirmedAt: t0 + FLUSH, pending: null }),
        }),
      ]);
      expect(of(h(1), 'a2')).toEqual([expect.objectContaining({ holders: 1, downstream: null, forwarding: null })]);
      expect(of(h(2), 'a1')).toEqual([expect.objectContaining({ holders: 0, downstream: expect.objectContaining({ onX: 'confirmed', pending: 'remove' }) })]);
      expect(of(h(3), 'a1')).toEqual([expect.objectContaining({ holders: 1, downstream: expect.objectContaining({ onX: null, pending: 'add' }) })]);
      expect(rows.filter((r) => r.hash === h(9))).toEqual([]);
      expect(rows.filter((r) => r.identityType === 'handle')).toEqual([]);
      // A claimed add is uncertain until settled.
      const inFlight = (await store.claim(opts(t0 + 3 * FLUSH)))!;
      expect(inFlight.changes.length).toBe(2);
      const during = await store.lookup([{ type: 'email', hash: h(3) }]);
      expect(during[0]?.downstream).toMatchObject({ onX: 'uncertain' });
      // Toggled off: not forwarded.
      await store.putConnection(
        'a1',
        configId,
        { forwardEmails: false, forwardTwitterHandles: true, forwardDeviceIds: false, forwardPhoneNumbers: false },
        t0 + 4 * FLUSH,
        'admin_token',
      );
      const off = await store.lookup([{ type: 'email', hash: h(1) }]);
      expect(off.find((r) => r.audienceId === 'a1')).toMatchObject({ forwarding: false, downstream: expect.objectContaining({ state: 'detached' }) });
      // Suppressed: said first, whatever the ledgers hold (docs/privacy.md).
      expect(rows.every((r) => !r.suppressed)).toBe(true);
      await store.suppress([{ type: 'email', hash: h(1) }], [], t0 + 5 * FLUSH, 'admin_token');
      const held = await store.lookup([{ type: 'email', hash: h(1) }]);
      expect(held.length).toBeGreaterThan(0);
      expect(held.every((r) => r.suppressed)).toBe(true);
      expect(held.map(lookupState)).toEqual(held.map(() => 'suppressed'));
      expect((await store.lookup([{ type: 'email', hash: h(2) }])).every((r) => !r.suppressed)).toBe(true);
    });

    it('a preview says what changes would do, per identity type, and writes nothing', async () => {
      await store.applyMemberChanges('a1', [1, 2].map(add), t0);
      await store.applyMemberChanges('a1', [{ memberKey: 'shared', action: 'add', identities: [{ type: 'email', hash: h(2) }] }], t0);
      await createOnX();
      const before = JSON.stringify([
        await store.listDownstreams('a1'),
        await store.countMembers('a1'),
        await store.lookup([1, 2, 3].map((n) => ({ type: 'email' as const, hash: h(n) }))),
      ]);
      const preview = await store.previewMemberChanges('a1', [
        add(1), // already present
        remove(2), // leaves, but `shared` still holds h(2): no remove for X
        add(3),
        { memberKey: 'm5', action: 'add', identities: [{ type: 'handle', hash: h(5) }] },
        remove(7), // no such member: nothing
      ]);
      expect(preview).toEqual({
        email: { add: 1, remove: 1, alreadyPresent: 1, xAdd: 1, xRemove: 0 },
        handle: { add: 1, remove: 0, alreadyPresent: 0, xAdd: 1, xRemove: 0 },
      });
      expect(await store.previewMemberChanges('a1', [remove(1)])).toEqual({ email: { add: 0, remove: 1, alreadyPresent: 0, xAdd: 0, xRemove: 1 } });
      const after = JSON.stringify([
        await store.listDownstreams('a1'),
        await store.countMembers('a1'),
        await store.lookup([1, 2, 3].map((n) => ({ type: 'email' as const, hash: h(n) }))),
      ]);
      expect(after).toBe(before);
    });
  });
}
