import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ClaimOptions, Store } from '../../src/store/port.ts';
import { downstreamName } from '../../src/core/names.ts';
import { STORES, h } from './helpers.ts';

const ALL_ON = { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false };

for (const factory of STORES) {
  describe(`store contract: ledger and outbox (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let configId: string;
    const now = 1_000_000;
    const opts = (over: Partial<ClaimOptions> = {}): ClaimOptions => ({
      owner: 'w1',
      now: now + 60_000,
      leaseMs: 30_000,
      flushIntervalMs: 10_000,
      fullBatch: 1000,
      maxChanges: 1000,
      refreshIntervalMs: 3_600_000,
      ...over,
    });

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      const { configuration } = await store.putConfiguration(
        { name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
        now,
        'cli',
      );
      configId = configuration.id;
      await store.putAudience('a1', 'Buyers', now, 'admin_token');
      await store.putConnection('a1', configId, ALL_ON, now, 'admin_token');
    });
    afterEach(async () => cleanup());

    /** Claims, fakes X's creation of every downstream audience, and returns the pending changes. */
    async function createAll(): Promise<void> {
      for (;;) {
        const c = await store.claim(opts());
        if (!c) return;
        if (c.task !== 'create') {
          await store.release(c.downstream.id, c.leaseToken, { nextAttemptAt: 0, error: null, countAttempt: false, now });
          return;
        }
        const x = { id: `x${c.downstream.id}`, name: downstreamName('Buyers', c.downstream.identityType, 1), nameSuffix: 1 };
        expect(
          await store.settleCreated(c.downstream.id, c.leaseToken, { ...x, audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING'] }, now),
        ).toBe(true);
      }
    }

    async function sendAll(): Promise<Map<string, { op: string; hash: string }[]>> {
      const sent = new Map<string, { op: string; hash: string }[]>();
      for (;;) {
        const c = await store.claim(opts());
        if (!c || c.task !== 'send') return sent;
        sent.set(c.downstream.identityType, c.changes);
        await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [] }, now);
      }
    }

    it('creates the X audiences that have a member to send, then sends each member hash to its type', async () => {
      await store.applyMemberChanges(
        'a1',
        [
          {
            memberKey: 'm1',
            action: 'add',
            identities: [
              { type: 'email', hash: h(1) },
              { type: 'handle', hash: h(2) },
            ],
          },
        ],
        now,
      );
      const downs = await store.listDownstreams('a1');
      expect(downs.map((d) => [d.identityType, d.state, d.pending])).toEqual([
        ['email', 'creating', 1],
        ['handle', 'creating', 1],
        ['device_id', 'creating', 0],
      ]);
      await createAll();
      const sent = await sendAll();
      expect(sent.get('email')).toEqual([{ hash: h(1), op: 'add' }]);
      expect(sent.get('handle')).toEqual([{ hash: h(2), op: 'add' }]);
      const after = await store.listDownstreams('a1');
      // No device id yet: its X audience is not created (store/creation.ts).
      expect(after.map((d) => [d.state, d.xAudienceId !== null, d.members, d.pending])).toEqual([
        ['active', true, 1, 0],
        ['active', true, 1, 0],
        ['creating', false, 0, 0],
      ]);
    });

    it('an X audience is created with its first member, not before; a re-creation waits for members like a creation', async () => {
      const later = { now: now + 60_000, flushIntervalMs: 10_000, refreshIntervalMs: 3_600_000 };
      // A connection and no member: nothing to claim, and no idle worker is woken for it.
      expect(await store.claim(opts())).toBeNull();
      expect(await store.nextDueAt(later)).toBeNull();
      // A device id that came and went before anything was sent: a remove of a hash X never held creates nothing.
      await store.applyMemberChanges('a1', [{ memberKey: 'd', action: 'add', identities: [{ type: 'device_id', hash: h(30) }] }], now);
      await store.applyMemberChanges('a1', [{ memberKey: 'd', action: 'remove', identities: [] }], now);
      expect(await store.claim(opts())).toBeNull();
      expect(await store.nextDueAt(later)).toBeNull();
      // E-mails only: the e-mail audience alone is created, and its add goes into it.
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(31) }] }], now);
      expect(await store.nextDueAt(later)).toBe(0);
      const create = (await store.claim(opts()))!;
      expect([create.task, create.downstream.identityType]).toEqual(['create', 'email']);
      await store.settleCreated(
        create.downstream.id,
        create.leaseToken,
        { id: 'x-email', name: 'Buyers (email)', nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        now,
      );
      expect((await sendAll()).get('email')).toEqual([{ hash: h(31), op: 'add' }]);
      expect(await store.claim(opts())).toBeNull();
      const byType = async () => Object.fromEntries((await store.listDownstreams('a1')).map((d) => [d.identityType, d]));
      expect((await byType()).handle).toMatchObject({ state: 'creating', xAudienceId: null, pendingAdds: 0 });
      // A handle later: its audience is created, then filled.
      await store.applyMemberChanges('a1', [{ memberKey: 'm2', action: 'add', identities: [{ type: 'handle', hash: h(32) }] }], now);
      const handle = (await store.claim(opts()))!;
      expect([handle.task, handle.downstream.identityType]).toEqual(['create', 'handle']);
      await store.settleCreated(
        handle.downstream.id,
        handle.leaseToken,
        { id: 'x-handle', name: 'Buyers (handle)', nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        now,
      );
      expect((await sendAll()).get('handle')).toEqual([{ hash: h(32), op: 'add' }]);
      // X loses both. The e-mail audience holds a member: re-created at once and refilled. The
      // handle audience's member left meanwhile: it waits, like a new one, for a handle to hold.
      await store.applyMemberChanges('a1', [{ memberKey: 'm2', action: 'remove', identities: [] }], now);
      await sendAll();
      const refresh = { now: now + 10_000_000 };
      const lost: string[] = [];
      while (lost.length < 2) {
        const c = (await store.claim(opts(refresh)))!;
        if (c.task === 'create') {
          // The lost e-mail audience, already due again: let the handle's read come first.
          expect(c.downstream.identityType).toBe('email');
          await store.release(c.downstream.id, c.leaseToken, { nextAttemptAt: 0, error: null, countAttempt: false, now: now + 10_000_000 });
          continue;
        }
        expect(c.task).toBe('refresh');
        lost.push(c.downstream.identityType);
        await store.settleNotFound(c.downstream.id, c.leaseToken, 'deleted on X', now + 10_000_000);
      }
      expect(lost.sort()).toEqual(['email', 'handle']);
      const recreate = (await store.claim(opts(refresh)))!;
      expect([recreate.task, recreate.downstream.identityType]).toEqual(['create', 'email']);
      await store.settleCreated(
        recreate.downstream.id,
        recreate.leaseToken,
        { id: 'x-email-2', name: 'Buyers (email) [2]', nameSuffix: 2, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        now + 10_000_000,
      );
      const refill = (await store.claim(opts({ now: now + 10_010_000 })))!; // its refill has waited the flush interval
      expect([refill.task, refill.changes]).toEqual(['send', [{ hash: h(31), op: 'add' }]]);
      await store.settleSent(refill.downstream.id, refill.leaseToken, { sent: refill.changes, rejectedHashes: [] }, now + 10_000_000);
      expect(await store.claim(opts(refresh))).toBeNull();
      expect((await byType()).handle).toMatchObject({ state: 'recreating', xAudienceId: null, previousXAudienceId: 'x-handle', pendingAdds: 0 });
      await store.applyMemberChanges('a1', [{ memberKey: 'm3', action: 'add', identities: [{ type: 'handle', hash: h(33) }] }], now + 10_000_000);
      expect(await store.claim(opts(refresh))).toMatchObject({ task: 'create', downstream: { identityType: 'handle' } });
    });

    it('an identity change removes the old hash; a shared hash stays until its last holder leaves', async () => {
      await store.applyMemberChanges(
        'a1',
        [
          {
            memberKey: 'm1',
            action: 'add',
            identities: [
              { type: 'email', hash: h(1) },
              { type: 'device_id', hash: h(9) },
            ],
          },
          { memberKey: 'm2', action: 'add', identities: [{ type: 'device_id', hash: h(9) }] },
        ],
        now,
      );
      await createAll();
      await sendAll();
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(3) }] }], now);
      let sent = await sendAll();
      expect(sent.get('email')?.sort((a, b) => a.hash.localeCompare(b.hash))).toEqual([
        { hash: h(1), op: 'remove' },
        { hash: h(3), op: 'add' },
      ]);
      expect(sent.has('device_id')).toBe(false); // m2 still holds h(9)
      await store.applyMemberChanges('a1', [{ memberKey: 'm2', action: 'remove', identities: [] }], now);
      sent = await sendAll();
      expect(sent.get('device_id')).toEqual([{ hash: h(9), op: 'remove' }]);
    });

    it('coalesces flapping: add, remove, add before sending is one add; add then remove of a new hash is nothing', async () => {
      const add = { memberKey: 'm1', action: 'add' as const, identities: [{ type: 'email' as const, hash: h(5) }] };
      const remove = { memberKey: 'm1', action: 'remove' as const, identities: [] };
      await store.applyMemberChanges('a1', [add, remove, add], now);
      await createAll();
      expect((await sendAll()).get('email')).toEqual([{ hash: h(5), op: 'add' }]);
      await store.applyMemberChanges('a1', [{ memberKey: 'm2', action: 'add', identities: [{ type: 'email', hash: h(6) }] }], now);
      await store.applyMemberChanges('a1', [{ memberKey: 'm2', action: 'remove', identities: [] }], now);
      expect((await sendAll()).has('email')).toBe(false);
    });

    it('a change arriving while its batch is in flight stays pending and is sent after', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(7) }] }], now);
      await createAll();
      const c = (await store.claim(opts()))!;
      expect(c.changes).toEqual([{ hash: h(7), op: 'add' }]);
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'remove', identities: [] }], now);
      await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [] }, now);
      expect((await sendAll()).get('email')).toEqual([{ hash: h(7), op: 'remove' }]);
    });

    it('an expired lease is taken over, and the old holder can no longer settle', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(8) }] }], now);
      await createAll();
      const first = (await store.claim(opts()))!;
      expect(await store.claim(opts())).toBeNull(); // leased
      const second = (await store.claim(opts({ owner: 'w2', now: now + 60_000 + 31_000 })))!;
      expect(second.downstream.id).toBe(first.downstream.id);
      expect(second.changes).toEqual(first.changes);
      expect(await store.settleSent(first.downstream.id, first.leaseToken, { sent: [{ hash: h(8), op: 'add' }], rejectedHashes: [] }, now)).toBe(false);
      expect(await store.settleSent(second.downstream.id, second.leaseToken, { sent: [{ hash: h(8), op: 'add' }], rejectedHashes: [] }, now)).toBe(true);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ members: 1, pending: 0 });
    });

    it('an add whose answer was never settled (crash) is uncertain: a later remove is still sent', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(11) }] }], now);
      await createAll();
      await store.claim(opts()); // sent to X, then the worker died before settling
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'remove', identities: [] }], now);
      const taken = (await store.claim(opts({ owner: 'w2', now: now + 60_000 + 31_000 })))!;
      expect(taken.changes).toEqual([{ hash: h(11), op: 'remove' }]);
    });

    it('a remove whose answer was never settled (crash) is uncertain: a later add is still sent', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(12) }] }], now);
      await createAll();
      await sendAll();
      expect((await store.listDownstreams('a1'))[0]!.members).toBe(1);
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'remove', identities: [] }], now);
      await store.claim(opts()); // the remove went out; the worker died before settling
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(12) }] }], now);
      const taken = (await store.claim(opts({ owner: 'w2', now: now + 60_000 + 31_000 })))!;
      expect(taken.changes).toEqual([{ hash: h(12), op: 'add' }]);
      await store.settleSent(taken.downstream.id, taken.leaseToken, { sent: taken.changes, rejectedHashes: [] }, now);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ members: 1, pending: 0 });
    });

    it('a failed read of X size defers the next read, not the batches', async () => {
      const seed = [
        { type: 'email' as const, hash: h(16) },
        { type: 'handle' as const, hash: h(17) },
        { type: 'device_id' as const, hash: h(18) },
      ];
      await store.applyMemberChanges('a1', [{ memberKey: 'm0', action: 'add', identities: seed }], now);
      await createAll();
      await sendAll();
      const later = now + 10_000_000;
      const read = (await store.claim(opts({ now: later })))!;
      expect(read.task).toBe('refresh');
      await store.release(read.downstream.id, read.leaseToken, {
        nextAttemptAt: later,
        error: 'X had a problem',
        countAttempt: false,
        now: later,
        refreshAfter: later + 60_000,
      });
      for (const d of await store.listDownstreams('a1')) if (d.id !== read.downstream.id) expect(d.lastError).toBeNull();
      const all = [
        { type: 'email' as const, hash: h(13) },
        { type: 'handle' as const, hash: h(14) },
        { type: 'device_id' as const, hash: h(15) },
      ];
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: all }], later);
      const tasks: string[] = [];
      for (;;) {
        const c = await store.claim(opts({ now: later + 20_000 }));
        if (!c) break;
        tasks.push(`${c.downstream.id === read.downstream.id ? 'failed' : 'other'}:${c.task}`);
        if (c.task === 'send') await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [] }, later);
        else await store.settleRefreshed(c.downstream.id, c.leaseToken, { audienceSize: null, targetable: false, reasonsNotTargetable: [] }, later + 20_000);
      }
      expect(tasks).toContain('failed:send');
      expect(tasks).not.toContain('failed:refresh');
      expect(await store.claim(opts({ now: later + 61_000 }))).toMatchObject({ task: 'refresh', downstream: { id: read.downstream.id } });
    });

    it('waits for the flush interval unless a full batch is pending', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], now);
      await createAll();
      expect(await store.claim(opts({ now: now + 5_000 }))).toBeNull();
      expect(await store.claim(opts({ now: now + 5_000, fullBatch: 1 }))).toMatchObject({ task: 'send' });
    });

    it('toggle off detaches and drops pending changes; on again re-sends exactly the difference', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], now);
      await createAll();
      await sendAll();
      await store.putConnection('a1', configId, { ...ALL_ON, forwardEmails: false }, now, 'admin_token');
      await store.applyMemberChanges(
        'a1',
        [
          { memberKey: 'm1', action: 'remove', identities: [] },
          { memberKey: 'm2', action: 'add', identities: [{ type: 'email', hash: h(2) }] },
        ],
        now,
      );
      const detached = (await store.listDownstreams('a1'))[0]!;
      expect([detached.state, detached.pending]).toEqual(['detached', 0]);
      await store.putConnection('a1', configId, ALL_ON, now, 'admin_token');
      const sent = (await sendAll()).get('email')!;
      expect(sent.sort((a, b) => a.hash.localeCompare(b.hash))).toEqual([
        { hash: h(1), op: 'remove' },
        { hash: h(2), op: 'add' },
      ]);
    });

    it('not found on X: forgets the X audience and queues every member again', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], now);
      await createAll();
      await sendAll();
      const c = (await store.claim(opts({ now: now + 10_000_000 })))!; // a refresh
      expect(c.task).toBe('refresh');
      await store.settleNotFound(c.downstream.id, c.leaseToken, 'deleted on X', now);
      const d = (await store.listDownstreams('a1')).find((x) => x.id === c.downstream.id)!;
      expect([d.state, d.xAudienceId, d.pending]).toEqual(['recreating', null, c.downstream.identityType === 'email' ? 1 : 0]);
      // It holds a member, queued again: the re-creation is due at once, and that add refills it.
      expect(await store.claim(opts())).toMatchObject({ task: 'create', downstream: { id: c.downstream.id } });
    });

    it('deleting the audience marks its X audiences for deletion and forgets its members', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], now);
      await createAll();
      expect(await store.deleteConfiguration(configId, Date.now(), 'admin_token')).toBe('in_use');
      await store.deleteAudience('a1', now, 'admin_token');
      expect(await store.getAudience('a1')).toBeNull();
      const tasks = [];
      for (;;) {
        const c = await store.claim(opts());
        if (!c) break;
        tasks.push(`${c.task}:${c.downstream.identityType}`);
        await store.settleDeleted(c.downstream.id, c.leaseToken, Date.now());
      }
      // Only the e-mail audience was ever created: the others had nothing on X to delete and are gone.
      expect(tasks).toEqual(['delete:email']);
      expect(await store.listDownstreams('a1')).toEqual([]);
      expect(await store.deleteConfiguration(configId, Date.now(), 'admin_token')).toBe('deleted');
    });

    it('counts members exactly through any sequence of adds, identity changes and removes', async () => {
      const change = fc.record({
        key: fc.integer({ min: 0, max: 5 }),
        action: fc.constantFrom('add' as const, 'remove' as const),
        hashes: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(change, { maxLength: 6 }), { maxLength: 5 }), async (requests) => {
          const audience = `count-${Math.random().toString(36).slice(2)}`;
          await store.putAudience(audience, audience, now, 'admin_token');
          const model = new Map<string, number>();
          for (const request of requests) {
            const changes = request.map((c) => ({
              memberKey: `k${c.key}`,
              action: c.action,
              identities: c.hashes.map((n) => ({ type: 'email' as const, hash: h(n) })),
            }));
            await store.applyMemberChanges(audience, changes, now);
            for (const c of changes) model.set(c.memberKey, c.action === 'add' ? c.identities.length : 0);
          }
          const members = [...model.values()].filter((n) => n > 0).length;
          // Both reads come from the maintained count (audiences.member_count), on each dialect.
          expect(await store.countMembers(audience)).toBe(members);
          expect((await store.listAudiences()).find((x) => x.id === audience)?.members).toBe(members);
        }),
        { numRuns: 30 },
      );
    });

    it('token bucket: grants a burst, then asks to wait', async () => {
      for (let i = 0; i < 5; i += 1) expect(await store.takeRateToken('acc1:users', now, 60, 5)).toBe(0);
      expect(await store.takeRateToken('acc1:users', now, 60, 5)).toBe(1000);
      expect(await store.takeRateToken('acc1:users', now + 1000, 60, 5)).toBe(0);
    });
  });
}
