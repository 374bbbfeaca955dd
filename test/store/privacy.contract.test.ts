/**
 * Privacy on every store (docs/privacy.md).
 *
 * The suppression list and erasures: a suppressed hash leaves every X audience holding it
 * (detached ones too) and is never sent while suppressed, whatever races the ledger; lifting it
 * sends it again where the ledger still holds it; an erasure removes every member holding a given
 * identity or key, all of their identities, and is done only once X acknowledged every removal.
 * X is played by a map of what each downstream audience holds.
 *
 * Issue 14: the retention of X's data (samples older than the limit are gone, X's figures on a
 * downstream audience not refreshed since are cleared, newer ones stay; deleting a configuration
 * deletes the X data that came through it) and the audit log (append-only, newest first, paged by id).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import type { IdentityType } from '../../src/core/terms.ts';
import type { ClaimOptions, HashedIdentity, Store } from '../../src/store/port.ts';
import { STORES, h } from './helpers.ts';

const ALL = { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false };
const E = (n: number): HashedIdentity => ({ type: 'email', hash: h(n) });
const H = (n: number): HashedIdentity => ({ type: 'handle', hash: h(1000 + n) });
const D = (n: number): HashedIdentity => ({ type: 'device_id', hash: h(2000 + n) });
const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };
const DAY = 86_400_000;

for (const factory of STORES) {
  describe(`store contract: suppressions and erasures (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let configId: string;
    let now = 1_000_000;
    /** What X holds, per downstream id; and every change X was sent. */
    let x: Map<number, Set<string>>;
    let sent: { downstreamId: number; hash: string; op: string }[];
    const opts = (): ClaimOptions => ({
      owner: 'host:1:w',
      now,
      leaseMs: 30_000,
      flushIntervalMs: 0,
      fullBatch: 1000,
      maxChanges: 1000,
      refreshIntervalMs: 3_600_000_000,
    });

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      x = new Map();
      sent = [];
      configId = (await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 't' }, now, 'cli'))
        .configuration.id;
      for (const a of ['a1', 'a2']) {
        await store.putAudience(a, a, now, 'admin_token');
        await store.putConnection(a, configId, ALL, now, 'admin_token');
      }
    });
    afterEach(async () => cleanup());

    /** Runs every due task as X would answer it, until nothing is due. */
    async function drain(): Promise<void> {
      for (let i = 0; i < 100; i++) {
        now += 1000;
        const c = await store.claim(opts());
        if (!c) return;
        const d = c.downstream;
        if (c.task === 'create') {
          const name = downstreamName(c.audienceName!, d.identityType, 1);
          await store.settleCreated(
            d.id,
            c.leaseToken,
            { id: `x${d.id}`, name, nameSuffix: 1, audienceSize: null, targetable: true, reasonsNotTargetable: [] },
            now,
          );
        } else if (c.task === 'send') {
          const held = x.get(d.id) ?? new Set<string>();
          x.set(d.id, held);
          for (const ch of c.changes) {
            sent.push({ downstreamId: d.id, hash: ch.hash, op: ch.op });
            if (ch.op === 'add') held.add(ch.hash);
            else held.delete(ch.hash);
          }
          await store.settleSent(d.id, c.leaseToken, { sent: c.changes, renewed: c.renewals, rejectedHashes: [] }, now);
        } else if (c.task === 'refresh') {
          await store.settleRefreshed(d.id, c.leaseToken, { audienceSize: 0, targetable: true, reasonsNotTargetable: [] }, now);
        } else throw new Error(`unexpected task ${c.task}`);
      }
      throw new Error('drain did not settle');
    }

    async function ds(audienceId: string, type: IdentityType): Promise<number> {
      return (await store.listDownstreams(audienceId)).find((d) => d.identityType === type && d.state !== 'deleting')!.id;
    }
    const onX = async (audienceId: string, type: IdentityType): Promise<string[]> => [...(x.get(await ds(audienceId, type)) ?? [])].sort();
    const add = (audienceId: string, memberKey: string, identities: HashedIdentity[]) =>
      store.applyMemberChanges(audienceId, [{ memberKey, action: 'add', identities }], now);

    it('suppressing removes a hash from every X audience holding it, whoever holds it, and settles once X acknowledged', async () => {
      await add('a1', 'user:p', [E(1), H(1)]);
      await add('a2', 'user:q', [E(1), E(2)]);
      await drain();
      expect(await onX('a1', 'email')).toEqual([h(1)]);
      expect(await onX('a2', 'email')).toEqual([h(1), h(2)]);

      const r = await store.suppress([E(1), E(9)], [], now, 'admin_token');
      expect(r).toEqual({ added: 2, lifted: 0, queued: 2 });
      expect(await store.suppressedAmong([E(1), E(2), E(9), H(1)])).toEqual(expect.arrayContaining([E(1), E(9)]));
      expect((await store.suppressedAmong([E(1), E(2), E(9), H(1)])).length).toBe(2);
      const snap = await store.privacySnapshot();
      expect(snap).toMatchObject({ pendingSuppressions: 1, oldestPendingSuppressionAt: now, pendingErasures: 0 });
      // Again: already listed, nothing more to do.
      expect(await store.suppress([E(1)], [], now, 'admin_token')).toEqual({ added: 0, lifted: 0, queued: 0 });

      await drain();
      expect(await onX('a1', 'email')).toEqual([]);
      expect(await onX('a2', 'email')).toEqual([h(2)]);
      expect(await onX('a1', 'handle')).toEqual([h(1001)]);
      expect(await store.privacySnapshot()).toMatchObject({ pendingSuppressions: 0, oldestPendingSuppressionAt: null });
      // The ledger still holds it for both members: a new holder changes nothing on X.
      expect(await store.countMembers('a2')).toBe(1);
      await add('a2', 'user:r', [E(1)]);
      await drain();
      expect(sent.filter((s) => s.hash === h(1) && s.op === 'add').length).toBe(2); // the two first adds only

      // Lifted (re-consent): sent again wherever the ledger still holds it.
      expect(await store.suppress([], [E(1), E(7)], now, 'admin_token')).toEqual({ added: 0, lifted: 1, queued: 2 });
      await drain();
      expect(await onX('a1', 'email')).toEqual([h(1)]);
      expect(await onX('a2', 'email')).toEqual([h(1), h(2)]);
    });

    it('an add of a suppressed hash that reached the outbox anyway is never sent: the claim turns it into a remove', async () => {
      await add('a1', 'user:p', [E(1)]);
      await drain();
      // The suppression commits first, then an add of the hash arrives in the outbox (a resync, or
      // an ingest that read the list before the suppression): the claim still keeps it from X.
      await store.suppress([E(3)], [], now, 'admin_token');
      await add('a1', 'user:s', [E(3)]);
      await drain();
      expect(sent.filter((s) => s.hash === h(3))).toEqual([]);
      expect(await onX('a1', 'email')).toEqual([h(1)]);
      // And one claimed while X may hold it goes out as a remove.
      await store.suppress([], [E(3)], now, 'admin_token');
      await add('a1', 'user:t', [E(3)]);
      const c = (await store.claim(opts()))!;
      expect(c.changes).toEqual([{ hash: h(3), op: 'add' }]);
      await store.suppress([E(3)], [], now, 'admin_token'); // lands while the add is in flight
      await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, renewed: [], rejectedHashes: [] }, now);
      x.get(c.downstream.id)!.add(h(3));
      await drain();
      expect(await onX('a1', 'email')).toEqual([h(1)]);
      expect(sent.at(-1)).toEqual({ downstreamId: c.downstream.id, hash: h(3), op: 'remove' });
      expect(await store.privacySnapshot()).toMatchObject({ pendingSuppressions: 0 });
    });

    it('a detached X audience loses a suppressed hash too', async () => {
      await add('a1', 'user:p', [E(1)]);
      await drain();
      const id = await ds('a1', 'email');
      expect(await store.deleteConnection('a1', configId, now, 'admin_token')).toBe(true);
      expect((await store.listDownstreams('a1')).find((d) => d.id === id)?.state).toBe('detached');
      await store.suppress([E(1)], [], now, 'admin_token');
      await drain();
      expect([...x.get(id)!]).toEqual([]);
      expect((await store.listDownstreams('a1')).find((d) => d.id === id)?.state).toBe('detached');
      expect(await store.privacySnapshot()).toMatchObject({ pendingSuppressions: 0 });
    });

    it('erasure: every member holding a given identity, in every audience, with all its identities; done once X acknowledged; idempotent', async () => {
      await add('a1', 'user:p', [E(1), H(1), D(1)]);
      await add('a2', 'mpid:p', [E(1), D(1)]);
      await add('a2', 'user:q', [H(1), E(5)]); // shares the handle, which the request does not name
      await add('a2', 'user:z', [E(6)]);
      await drain();
      expect(await onX('a2', 'handle')).toEqual([h(1001)]);

      const { erasure, created } = await store.erase({ requestKey: 'k1', source: 'firehose', memberKeys: [], identities: [E(1), D(1)] }, now, 'admin_token');
      expect(created).toBe(true);
      expect(erasure).toMatchObject({ state: 'pending', source: 'firehose', membersErased: 2, receivedAt: now, completedAt: null });
      // email, handle, device in a1; email, handle (q's, suppressed), device in a2.
      expect(erasure.xAudiences).toBe(6);
      expect(await store.countMembers('a1')).toBe(0);
      expect(await store.countMembers('a2')).toBe(2);
      expect(await store.suppressedAmong([E(1), H(1), D(1), E(5)])).toHaveLength(3);
      expect(await store.privacySnapshot()).toMatchObject({ pendingErasures: 1, oldestPendingErasureAt: now });
      expect((await store.listErasures(10)).map((e) => e.id)).toEqual([erasure.id]);

      // The same request again: the same erasure, nothing changes.
      const again = await store.erase({ requestKey: 'k1', source: 'firehose', memberKeys: [], identities: [E(1), D(1)] }, now + 5, 'admin_token');
      expect(again).toEqual({ erasure, created: false });

      await drain();
      for (const a of ['a1', 'a2']) {
        for (const t of ['email', 'handle', 'device_id'] as const) {
          const held = await onX(a, t);
          for (const id of [E(1), H(1), D(1)]) expect(held).not.toContain(id.hash);
        }
      }
      expect(await onX('a2', 'email')).toEqual([h(5), h(6)]);
      const done = (await store.getErasure(erasure.id))!;
      expect(done.state).toBe('done');
      expect(done.completedAt).toBeGreaterThan(now - 100_000);
      expect(await store.privacySnapshot()).toMatchObject({ pendingErasures: 0, oldestPendingErasureAt: null, pendingSuppressions: 0 });

      // Re-adding the erased person sends nothing (ingest drops adds of suppressed hashes; here
      // even the ledger's add is kept off X by the claim).
      const before = sent.length;
      await add('a1', 'user:p', [E(1), H(1), D(1)]);
      await drain();
      expect(sent.slice(before).filter((s) => s.op === 'add')).toEqual([]);
      await store.applyMemberChanges('a1', [{ memberKey: 'user:p', action: 'remove', identities: [] }], now);
      await drain();

      // Lifting the handle sends it where the ledger still holds it: q's, in a2, not a1.
      await store.suppress([], [H(1)], now, 'admin_token');
      await drain();
      expect(await onX('a2', 'handle')).toEqual([h(1001)]);
      expect(await onX('a1', 'handle')).toEqual([]);
    });

    it('erasure by member key; one with nothing to find is done at once', async () => {
      await add('a1', 'user:k', [E(1)]);
      await add('a2', 'user:k', [H(2)]);
      await drain();
      const { erasure } = await store.erase({ requestKey: 'k2', source: 'api', memberKeys: ['user:k'], identities: [] }, now, 'admin_token');
      expect(erasure).toMatchObject({ membersErased: 2, state: 'pending', xAudiences: 2 });
      await drain();
      expect(await onX('a1', 'email')).toEqual([]);
      expect(await onX('a2', 'handle')).toEqual([]);
      expect((await store.getErasure(erasure.id))!.state).toBe('done');

      const none = await store.erase({ requestKey: 'k3', source: 'api', memberKeys: ['user:nobody'], identities: [E(42)] }, now, 'admin_token');
      expect(none.erasure).toMatchObject({ state: 'done', membersErased: 0, xAudiences: 0, completedAt: now });
      expect(await store.getErasure('no-such-id')).toBeNull();
    });

    /** The newest audit entry's action, actor and time. */
    const lastEntry = async () => {
      const [e] = await store.listAudit({ limit: 1 });
      return e && { actor: e.actor, action: e.action, objectId: e.objectId, at: e.at };
    };

    it('an erasure is done, dated and audited in the settle that records X acknowledging its last removal', async () => {
      await add('a1', 'user:p', [E(1)]);
      await drain();
      const { erasure } = await store.erase({ requestKey: 'k5', source: 'api', memberKeys: [], identities: [E(1)] }, now, 'admin_token');
      const c = (await store.claim(opts()))!;
      expect(c.changes).toEqual([{ hash: h(1), op: 'remove' }]);
      expect((await store.getErasure(erasure.id))!.state).toBe('pending'); // sent, not yet acknowledged
      const ackedAt = now + 777;
      expect(await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [] }, ackedAt)).toBe(true);
      // A plain read, nothing settled since: done, at the settle's time.
      expect(await store.getErasure(erasure.id)).toMatchObject({ state: 'done', completedAt: ackedAt });
      expect(await lastEntry()).toEqual({ actor: 'worker', action: 'erasure.completed', objectId: erasure.id, at: ackedAt });
    });

    it('… or in the claim that drops a removal X never needed (the add had not been sent)', async () => {
      await add('a1', 'user:z', [E(9)]);
      await drain(); // the X audiences exist
      await add('a1', 'user:p', [E(2)]); // queued, not sent
      const { erasure } = await store.erase({ requestKey: 'k6', source: 'api', memberKeys: [], identities: [E(2)] }, now, 'admin_token');
      expect(erasure.state).toBe('pending'); // its pending add became a remove, still queued
      const claimedAt = now + 555;
      expect(await store.claim({ ...opts(), now: claimedAt })).toBeNull(); // nothing to send: the remove was a no-op
      expect(await store.getErasure(erasure.id)).toMatchObject({ state: 'done', completedAt: claimedAt });
      expect(await lastEntry()).toEqual({ actor: 'worker', action: 'erasure.completed', objectId: erasure.id, at: claimedAt });
    });

    it('… or when the X audience that held it is deleted on X', async () => {
      await add('a1', 'user:p', [E(3)]);
      await add('a1', 'user:q', [H(3), D(3)]); // so that a1's three X audiences exist
      await drain();
      expect(await store.deleteAudience('a1', now, 'admin_token')).toBe(true);
      const { erasure } = await store.erase({ requestKey: 'k7', source: 'api', memberKeys: [], identities: [E(3)] }, now, 'admin_token');
      expect(erasure.state).toBe('pending'); // the X audience being deleted still holds it
      // a1's three X audiences are deleted one by one; the e-mail one held the hash.
      let emailDeletedAt = 0;
      for (let i = 1; i <= 3; i++) {
        const c = (await store.claim(opts()))!;
        expect(c.task).toBe('delete');
        const at = now + 100 * i;
        expect(await store.settleDeleted(c.downstream.id, c.leaseToken, at)).toBe(true);
        if (c.downstream.identityType === 'email') emailDeletedAt = at;
        else if (emailDeletedAt === 0) expect((await store.getErasure(erasure.id))!.state).toBe('pending');
      }
      expect(await store.getErasure(erasure.id)).toMatchObject({ state: 'done', completedAt: emailDeletedAt });
    });

    it('detaching keeps the removals of suppressed hashes; their configuration cannot be deleted before they reach X', async () => {
      await add('a1', 'user:p', [E(4)]);
      await drain();
      const id = await ds('a1', 'email');
      await store.setConfigurationState(configId, 'needs_reauth', 'revoked', now, 'worker');
      const { erasure } = await store.erase({ requestKey: 'k8', source: 'api', memberKeys: [], identities: [E(4)] }, now, 'admin_token');
      // Both connections go while the removal waits: the X audiences stay on X, detached.
      for (const a of ['a1', 'a2']) expect(await store.deleteConnection(a, configId, now, 'admin_token')).toBe(true);
      expect((await store.listDownstreams('a1')).find((d) => d.id === id)).toMatchObject({ state: 'detached', pendingRemoves: 1 });
      expect(await store.deleteConfiguration(configId, now, 'admin_token')).toBe('in_use');
      await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'fresh' }, now, 'cli');
      await drain();
      expect([...x.get(id)!]).toEqual([]);
      expect((await store.getErasure(erasure.id))!.state).toBe('done');
      expect(await store.deleteConfiguration(configId, now, 'admin_token')).toBe('deleted');
    });

    it('turning a type off keeps its X audience’s removals of suppressed hashes too', async () => {
      await add('a1', 'user:p', [E(5)]);
      await drain();
      const id = await ds('a1', 'email');
      await store.setConfigurationState(configId, 'needs_reauth', 'revoked', now, 'worker');
      await store.suppress([E(5)], [], now, 'admin_token');
      await store.putConnection('a1', configId, { ...ALL, forwardEmails: false }, now, 'admin_token');
      expect((await store.listDownstreams('a1')).find((d) => d.id === id)).toMatchObject({ state: 'detached', pendingRemoves: 1 });
      await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'fresh' }, now, 'cli');
      await drain();
      expect([...x.get(id)!]).toEqual([]);
      expect(await store.privacySnapshot()).toMatchObject({ pendingSuppressions: 0 });
    });

    it('a cadence does not hold an opt-out back: its removal opens the window at once', async () => {
      await store.putConnection('a1', configId, { ...ALL, sendIntervalMinutes: 24 * 60 }, now, 'admin_token');
      await add('a1', 'user:p', [E(6)]);
      await add('a1', 'user:q', [E(7)]);
      await drain(); // the first send goes at once; the next window is a day later
      expect(await onX('a1', 'email')).toEqual([h(6), h(7)]);
      await store.applyMemberChanges('a1', [{ memberKey: 'user:q', action: 'remove', identities: [] }], now); // waits for the window
      await drain();
      expect(await onX('a1', 'email')).toEqual([h(6), h(7)]);
      const { erasure } = await store.erase({ requestKey: 'k9', source: 'api', memberKeys: [], identities: [E(6)] }, now, 'admin_token');
      expect(await store.nextDueAt({ now, flushIntervalMs: 0, refreshIntervalMs: 3_600_000_000 })).toBeLessThanOrEqual(now);
      await drain();
      // The opt-out's removal went within seconds, with the change that waited for the window.
      expect(await onX('a1', 'email')).toEqual([]);
      expect((await store.getErasure(erasure.id))!.state).toBe('done');
    });

    it('a configuration that needs re-authorization holds an erasure back, and says so', async () => {
      await add('a1', 'user:p', [E(1)]);
      await drain();
      await store.setConfigurationState(configId, 'needs_reauth', 'revoked', now, 'worker');
      const { erasure } = await store.erase({ requestKey: 'k4', source: 'api', memberKeys: [], identities: [E(1)] }, now, 'admin_token');
      await drain();
      expect((await store.getErasure(erasure.id))!.state).toBe('pending');
      expect((await store.privacySnapshot()).reauthBlocking).toEqual([{ configurationId: configId, name: 'c' }]);
      await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'fresh' }, now, 'cli');
      await drain();
      expect((await store.getErasure(erasure.id))!.state).toBe('done');
      expect((await store.privacySnapshot()).reauthBlocking).toEqual([]);
    });
  });
}

for (const factory of STORES) {
  describe(`store contract: retention of X's data and the audit log (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let configId: string;
    const t0 = 1_700_000_000_000;
    const opts = (now: number): ClaimOptions => ({
      owner: 'host:1:w',
      now,
      leaseMs: 30_000,
      flushIntervalMs: 10_000,
      fullBatch: 1000,
      maxChanges: 1000,
      refreshIntervalMs: 3_600_000,
    });

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      configId = (
        await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, t0, 'cli')
      ).configuration.id;
    });
    afterEach(async () => cleanup());

    /**
     * An audience connected for e-mails, its X audience created at t0 for its one member (sent at
     * once), and refreshed at each of `at` (X's size then).
     */
    async function refreshedAt(audienceId: string, at: number[]): Promise<number> {
      await store.putAudience(audienceId, audienceId, t0, 'admin_token');
      await store.putConnection(audienceId, configId, EMAIL_ONLY, t0, 'admin_token');
      await store.applyMemberChanges(audienceId, [{ memberKey: 'm1', action: 'add', identities: [E(1)] }], t0 - 10_000);
      const c = (await store.claim(opts(t0)))!;
      expect(c.task).toBe('create');
      const x = {
        id: `x-${audienceId}`,
        name: downstreamName(audienceId, 'email', 1),
        nameSuffix: 1,
        audienceSize: null,
        targetable: false,
        reasonsNotTargetable: [],
      };
      await store.settleCreated(c.downstream.id, c.leaseToken, x, t0);
      const send = (await store.claim(opts(t0)))!;
      expect(send.task).toBe('send');
      await store.settleSent(send.downstream.id, send.leaseToken, { sent: send.changes, rejectedHashes: [] }, t0);
      for (const [i, when] of at.entries()) {
        const r = (await store.claim(opts(when)))!;
        expect([r.task, r.downstream.id]).toEqual(['refresh', c.downstream.id]);
        expect(
          await store.settleRefreshed(r.downstream.id, r.leaseToken, { audienceSize: 1000 + i, targetable: true, reasonsNotTargetable: ['none'] }, when),
        ).toBe(true);
      }
      return c.downstream.id;
    }

    it('deletes samples older than the limit and clears X’s figures not refreshed since; newer ones stay', async () => {
      // 'mixed' first: its last refresh is not due again while 'old' is built, so each claim is the one wanted.
      const mixed = await refreshedAt('mixed', [t0 + 3 * DAY, t0 + 95 * DAY]);
      const old = await refreshedAt('old', [t0 + 1 * DAY, t0 + 2 * DAY]);
      expect((await store.listSamples('old')).length).toBe(2);

      const now = t0 + 96 * DAY;
      const cutoff = now - 90 * DAY; // t0 + 6 days
      expect(await store.pruneXData(cutoff, cutoff)).toEqual({ samples: 3, downstreams: 1, deliveries: 0 });

      expect(await store.listSamples('old')).toEqual([]);
      expect(await store.listSamples('mixed')).toEqual([{ downstreamId: mixed, at: t0 + 95 * DAY, members: 1, audienceSize: 1001, sizedMembers: 1 }]);
      const [oldDown] = await store.listDownstreams('old');
      expect(oldDown).toMatchObject({ id: old, audienceSize: null, targetable: null, reasonsNotTargetable: [], refreshedAt: t0 + 2 * DAY });
      expect((await store.listDownstreams('mixed'))[0]).toMatchObject({ audienceSize: 1001, targetable: true, reasonsNotTargetable: ['none'] });

      // Idempotent: nothing left to prune.
      expect(await store.pruneXData(cutoff, cutoff)).toEqual({ samples: 0, downstreams: 0, deliveries: 0 });
      // A stale downstream audience is refreshed as before: its refresh clock was kept.
      expect((await store.claim(opts(now)))?.task).toBe('refresh');
    });

    it('deletes the delivery log’s calls made before its own cut, of a downstream audience that makes no more calls too', async () => {
      const id = await refreshedAt('log', [t0 + DAY]);
      const call = { adds: 1, removes: 0, bytes: 100, status: 200, successCount: 1, totalCount: 1, durationMs: 5, error: null };
      for (const at of [t0 + DAY, t0 + 5 * DAY, t0 + 7 * DAY]) await store.recordDelivery(id, { ...call, at });
      // The log's cut is its own (the pruner's: the sooner of its window and X's retention).
      expect(await store.pruneXData(t0, t0 + 6 * DAY)).toEqual({ samples: 0, downstreams: 0, deliveries: 2 });
      expect((await store.listDeliveries('log', { limit: 10 })).map((d) => d.at)).toEqual([t0 + 7 * DAY]);
      expect((await store.listSamples('log')).length).toBe(1);
      expect(await store.pruneXData(t0, t0 + 6 * DAY)).toMatchObject({ deliveries: 0 });
    });

    it('clears a size kept while X processes once the size itself is past the limit, though X was read since', async () => {
      const id = await refreshedAt('proc', [t0 + DAY]);
      // X re-processes: no size, PROCESSING; the last size stays and refreshed_at moves on without it.
      const r = (await store.claim(opts(t0 + 95 * DAY)))!;
      expect([r.task, r.downstream.id]).toEqual(['refresh', id]);
      const processing = { audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING'] };
      expect(await store.settleRefreshed(id, r.leaseToken, processing, t0 + 95 * DAY)).toBe(true);
      expect((await store.listDownstreams('proc'))[0]).toMatchObject({ audienceSize: 1000, sizedAt: t0 + DAY, refreshedAt: t0 + 95 * DAY });

      expect(await store.pruneXData(t0 + 6 * DAY, t0 + 6 * DAY)).toMatchObject({ downstreams: 1 });
      expect((await store.listDownstreams('proc'))[0]).toMatchObject({
        audienceSize: null,
        targetable: null,
        sizedAt: null,
        sizedMembers: null,
        refreshedAt: t0 + 95 * DAY,
      });
    });

    /** Rows of a table, read past the port (the port cannot see rows of forgotten X audiences). */
    async function rows(table: string): Promise<number> {
      const raw = store as unknown as {
        db: { prepare?: (sql: string) => { pluck: () => { get: () => number } }; query?: (sql: string) => Promise<{ rows: { n: number }[] }> };
      };
      if (store.dialect === 'sqlite') return raw.db.prepare!(`SELECT COUNT(*) FROM ${table}`).pluck().get();
      return Number((await raw.db.query!(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0]!.n);
    }

    it('deleting a configuration deletes the X data that came through it', async () => {
      const downstreamId = await refreshedAt('gone', [t0 + DAY]);
      expect((await store.listSamples('gone')).length).toBe(1);
      // One `users` call in the delivery log: X's answer to it.
      await store.recordDelivery(downstreamId, {
        at: t0 + DAY,
        adds: 1,
        removes: 0,
        bytes: 100,
        status: 200,
        successCount: 1,
        totalCount: 1,
        durationMs: 5,
        error: null,
      });
      expect(await rows('deliveries')).toBe(1);
      expect(await store.deleteConnection('gone', configId, t0 + DAY, 'admin_token')).toBe(true);
      expect((await store.listDownstreams('gone')).map((d) => [d.state, d.audienceSize])).toEqual([['detached', 1000]]);
      expect(await store.deleteConfiguration(configId, t0 + DAY, 'admin_token')).toBe('deleted');
      expect(await store.listDownstreams('gone')).toEqual([]);
      expect(await store.listSamples('gone')).toEqual([]);
      for (const table of ['samples', 'deliveries', 'x_members', 'downstreams']) expect(await rows(table), table).toBe(0);
    });
  });
}
