/**
 * The rest of the store port, on every store: configurations, renames, rejections, release and
 * settleRejected, sweeping a dead owner's leases, rate holds, what idle workers wait for, history,
 * metrics. Together with ledger.contract.test.ts this pins SQLite and PostgreSQL to one behaviour.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Claim, ClaimOptions, Store } from '../../src/store/port.ts';
import { downstreamName } from '../../src/core/names.ts';
import { STORES, h } from './helpers.ts';

const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };

for (const factory of STORES) {
  describe(`store contract: configurations, claims and settles (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let configId: string;
    const now = 1_000_000;
    const opts = (over: Partial<ClaimOptions> = {}): ClaimOptions => ({
      owner: 'host:1:w',
      now: now + 60_000,
      leaseMs: 30_000,
      flushIntervalMs: 10_000,
      fullBatch: 1000,
      maxChanges: 1000,
      refreshIntervalMs: 3_600_000,
      ...over,
    });
    const config = { name: 'c', accountId: 'acc1', accountName: 'Acme', xUserId: '7', screenName: 'acme', tokens: 'sealed' };

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      configId = (await store.putConfiguration(config, now, 'cli')).configuration.id;
      await store.putAudience('a1', 'Buyers', now, 'admin_token');
      await store.putConnection('a1', configId, EMAIL_ONLY, now, 'admin_token');
    });
    afterEach(async () => cleanup());

    /** Fakes X's creation of the email audience (due once a member is: store/creation.ts) and returns its downstream id. */
    async function created(name = 'Buyers'): Promise<number> {
      const c = (await store.claim(opts()))!;
      expect(c.task).toBe('create');
      await settleCreate(c, name);
      return c.downstream.id;
    }

    async function settleCreate(c: Claim, name = 'Buyers'): Promise<void> {
      await store.settleCreated(
        c.downstream.id,
        c.leaseToken,
        { id: 'x1', name: downstreamName(name, 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING'] },
        now,
      );
    }

    /** Adds the members and claims their send, creating the X audience first when they are its first. */
    async function pendingSend(hashes: number[]): Promise<Claim> {
      await store.applyMemberChanges(
        'a1',
        hashes.map((n) => ({ memberKey: `m${n}`, action: 'add' as const, identities: [{ type: 'email' as const, hash: h(n) }] })),
        now,
      );
      let c = (await store.claim(opts()))!;
      if (c.task === 'create') {
        await settleCreate(c);
        c = (await store.claim(opts()))!;
      }
      expect(c.task).toBe('send');
      return c;
    }

    it('configurations: one per account; new tokens re-authorize and resume it; deletion waits for its connections', async () => {
      await store.setConfigurationState(configId, 'needs_reauth', 'token revoked', now, 'worker');
      expect(await store.getConfiguration(configId)).toMatchObject({ state: 'needs_reauth', stateReason: 'token revoked' });
      expect(await store.claim(opts())).toBeNull(); // a paused configuration's audiences wait
      const again = await store.putConfiguration({ ...config, tokens: 'fresh' }, now + 1, 'cli');
      expect(again).toMatchObject({ created: false, configuration: { id: configId, tokens: 'fresh', state: 'active', stateReason: null } });
      expect((await store.getConfigurationByAccount('acc1'))?.id).toBe(configId);
      expect((await store.listConfigurations()).map((c) => c.id)).toEqual([configId]);
      expect(await store.deleteConfiguration(configId, Date.now(), 'admin_token')).toBe('in_use');
      expect(await store.deleteConnection('a1', configId, now, 'admin_token')).toBe(true);
      expect((await store.listDownstreams('a1')).map((d) => d.state)).toEqual(['detached']);
      expect(await store.deleteConfiguration(configId, Date.now(), 'admin_token')).toBe('deleted');
      expect(await store.deleteConfiguration(configId, Date.now(), 'admin_token')).toBe('not_found');
      expect(await store.listDownstreams('a1')).toEqual([]);
    });

    it('audiences: created, renamed (the X audience follows), counted', async () => {
      expect(await store.putAudience('a1', 'Buyers', now, 'admin_token')).toMatchObject({ created: false, renamed: false });
      await store.applyMemberChanges(
        'a1',
        [
          { memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] },
          {
            memberKey: 'm2',
            action: 'add',
            identities: [
              { type: 'email', hash: h(1) },
              { type: 'handle', hash: h(2) },
            ],
          },
          { memberKey: 'm3', action: 'add', identities: [] },
        ],
        now,
      );
      const id = await created();
      expect(await store.countMembers('a1')).toBe(2);
      expect(await store.listAudiences()).toEqual([expect.objectContaining({ id: 'a1', name: 'Buyers', members: 2 })]);
      expect(await store.putAudience('a1', 'Sellers', now + 5, 'admin_token')).toMatchObject({ created: false, renamed: true, audience: { name: 'Sellers' } });
      const c = (await store.claim(opts()))!;
      expect([c.task, c.downstream.id, c.audienceName]).toEqual(['rename', id, 'Sellers']);
      expect(await store.settleRenamed(id, c.leaseToken, downstreamName('Sellers', 'email', 1), 1, now)).toBe(true);
      expect((await store.claim(opts()))?.task).toBe('send');
    });

    it('rejections are counted by reason and never hold the value', async () => {
      await store.applyMemberChanges('a1', [], now, { invalid_email: 2, invalid_device_id: 1 });
      await store.applyMemberChanges('a1', [], now + 5, { invalid_email: 3 });
      expect(await store.listRejections('a1')).toEqual([
        { reason: 'invalid_email', count: 5, lastAt: now + 5 },
        { reason: 'invalid_device_id', count: 1, lastAt: now },
      ]);
    });

    it('a send claim reports its oldest change; release keeps the changes, counts the attempt and records the error', async () => {
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], now - 5);
      await created();
      const c = await pendingSend([2]);
      expect(c.oldestEnqueuedAt).toBe(now - 5);
      expect(c.changes.map((x) => x.hash)).toEqual([h(1), h(2)]);
      expect(await store.release(c.downstream.id, c.leaseToken, { nextAttemptAt: now + 120_000, error: 'X answered 503', countAttempt: true, now })).toBe(true);
      expect(await store.release(c.downstream.id, c.leaseToken, { nextAttemptAt: 0, error: null, countAttempt: false, now })).toBe(false);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ attempts: 1, lastError: 'X answered 503', nextAttemptAt: now + 120_000, pending: 2 });
      expect(await store.listErrors('a1', 10)).toEqual([{ downstreamId: c.downstream.id, at: now, message: 'X answered 503' }]);
      expect(await store.claim(opts())).toBeNull(); // not before next_attempt_at
      expect(await store.nextDueAt({ now: now + 60_000, flushIntervalMs: 10_000, refreshIntervalMs: 3_600_000 })).toBe(now + 120_000);
      const again = (await store.claim(opts({ now: now + 120_000 })))!;
      expect(again.changes).toEqual(c.changes);
    });

    it('batch sizes per identity type replace fullBatch and maxChanges', async () => {
      await store.applyMemberChanges(
        'a1',
        [1, 2, 3].map((n) => ({ memberKey: `m${n}`, action: 'add' as const, identities: [{ type: 'email' as const, hash: h(n) }] })),
        now + 60_000,
      );
      await created(); // a creation does not wait for the flush interval
      // Not yet waited the flush interval, and under fullBatch: nothing due...
      expect(await store.claim(opts())).toBeNull();
      expect(await store.claim(opts({ maxChangesByType: { device_id: 2 } }))).toBeNull();
      // ...but a full batch for e-mails: due, and sized for e-mails.
      const c = (await store.claim(opts({ maxChangesByType: { email: 2 } })))!;
      expect([c.task, c.changes.length]).toEqual(['send', 2]);
    });

    it('settleRejected drops what X refused, keeps the rest pending, and shows the error', async () => {
      const c = await pendingSend([1, 2, 3]);
      expect(await store.settleRejected(c.downstream.id, c.leaseToken, [h(2)], 'X refused 1 user', now)).toBe(true);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ rejected: 1, lastError: 'X refused 1 user', pending: 2 });
      const next = (await store.claim(opts()))!;
      expect(next.changes.map((x) => x.hash).sort()).toEqual([h(1), h(3)]);
      await store.settleSent(next.downstream.id, next.leaseToken, { sent: next.changes, rejectedHashes: [h(3)] }, now);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({ members: 1, sentAdds: 1, rejected: 2, pending: 0 });
    });

    it("a dead owner's leases are listed and freed; its changes stay pending", async () => {
      const c = await pendingSend([1]);
      expect(await store.leaseOwners()).toEqual(['host:1:w']);
      expect(await store.releaseOwner('host:1:w')).toBe(1);
      expect(await store.leaseOwners()).toEqual([]);
      expect(await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [] }, now)).toBe(false);
      const again = (await store.claim(opts({ owner: 'host:2:w' })))!;
      expect(again.changes).toEqual(c.changes);
    });

    it('refresh records X’s size and a sample; a 429 hold empties the bucket until the reset', async () => {
      const first = await pendingSend([1]);
      const id = first.downstream.id;
      await store.settleSent(id, first.leaseToken, { sent: first.changes, rejectedHashes: [] }, now);
      const c = (await store.claim(opts({ now: now + 10_000_000 })))!;
      expect(c.task).toBe('refresh');
      expect(await store.settleRefreshed(id, c.leaseToken, { audienceSize: 1200, targetable: true, reasonsNotTargetable: [] }, now + 10_000_000)).toBe(true);
      expect((await store.listDownstreams('a1'))[0]).toMatchObject({
        audienceSize: 1200,
        targetable: true,
        reasonsNotTargetable: [],
        refreshedAt: now + 10_000_000,
      });
      expect(await store.listSamples('a1')).toEqual([{ downstreamId: id, at: now + 10_000_000, members: 1, audienceSize: 1200, sizedMembers: 1 }]);

      await store.holdRate('acc1:users', now + 30_000, now, 60);
      expect(await store.takeRateToken('acc1:users', now, 60, 5)).toBe(30_000);
      expect(await store.takeRateToken('acc1:users', now + 30_000, 60, 5)).toBe(0);
    });

    it('the metrics snapshot counts pending changes per downstream audience', async () => {
      await store.applyMemberChanges(
        'a1',
        [
          {
            memberKey: 'm1',
            action: 'add',
            identities: [
              { type: 'email', hash: h(1) },
              { type: 'email', hash: h(2) },
            ],
          },
        ],
        now + 7,
      );
      await created();
      const snapshot = await store.metricsSnapshot!();
      expect(snapshot).toEqual({
        pending: [{ audienceId: 'a1', configurationId: configId, identityType: 'email', count: 2, oldestEnqueuedAt: now + 7 }],
        configurationsNeedingReauth: 0,
      });
    });
  });
}
