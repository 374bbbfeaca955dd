/**
 * The status's figures, on every store (issue 16): what X holds against the target, pending adds
 * and removes, uncertain hashes, X's last size kept while X processes, the lost id of a re-created
 * audience, the delivery log, and the audience list's page (search, filter, sort, cursor).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Claim, ClaimOptions, Store } from '../../src/store/port.ts';
import { downstreamName } from '../../src/core/names.ts';
import { EMAIL_ONLY, STORES, addEmail as add, claimOptions, removeMember as remove } from './helpers.ts';

const FLUSH = 10_000;

for (const factory of STORES) {
  describe(`store contract: status figures (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let configId: string;
    let downstreamId: number;
    const t0 = 1_000_000;
    const opts = (now: number, over: Partial<ClaimOptions> = {}): ClaimOptions => claimOptions({ now, flushIntervalMs: FLUSH, ...over });
    const downstream = async (audience = 'a1') => (await store.listDownstreams(audience)).find((d) => d.id === downstreamId)!;
    async function claim(now: number, task: Claim['task'], over: Partial<ClaimOptions> = {}): Promise<Claim> {
      const c = (await store.claim(opts(now, over)))!;
      expect(c?.task).toBe(task);
      return c;
    }

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      configId = (
        await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, t0, 'cli')
      ).configuration.id;
      await store.putAudience('a1', 'Buyers', t0, 'admin_token');
      await store.putConnection('a1', configId, EMAIL_ONLY, t0, 'admin_token');
      await store.applyMemberChanges('a1', [1, 2, 3, 4, 5].map(add), t0);
      const c = await claim(t0, 'create'); // with its first members (store/creation.ts)
      downstreamId = c.downstream.id;
      await store.settleCreated(
        downstreamId,
        c.leaseToken,
        { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING'] },
        t0,
      );
      const s = await claim(t0 + FLUSH, 'send');
      await store.settleSent(downstreamId, s.leaseToken, { sent: s.changes, rejectedHashes: [] }, t0 + FLUSH);
    });
    afterEach(async () => cleanup());

    it('tells on X from the target, pending adds from removes, and counts uncertain hashes', async () => {
      expect(await downstream()).toMatchObject({ members: 5, target: 5, pending: 0, pendingAdds: 0, pendingRemoves: 0, uncertain: 0, oldestPendingAt: null });
      const t1 = t0 + 2 * FLUSH;
      await store.applyMemberChanges('a1', [add(6), add(7)], t1);
      await store.applyMemberChanges('a1', [remove(1)], t1 + 5);
      expect(await downstream()).toMatchObject({ members: 5, target: 6, pending: 3, pendingAdds: 2, pendingRemoves: 1, uncertain: 0, oldestPendingAt: t1 });
      // In flight, unanswered: the three hashes are uncertain and the target does not move.
      const c = await claim(t1 + FLUSH, 'send');
      expect(c.changes).toHaveLength(3);
      expect(await downstream()).toMatchObject({ members: 4, target: 6, pendingAdds: 2, pendingRemoves: 1, uncertain: 3 });
      await store.settleSent(downstreamId, c.leaseToken, { sent: c.changes, rejectedHashes: [] }, t1 + FLUSH);
      expect(await downstream()).toMatchObject({ members: 6, target: 6, pending: 0, uncertain: 0 });
    });

    it('keeps the last size and targetability X reported while X processes, and the membership it sized', async () => {
      const t1 = t0 + 2 * FLUSH;
      let r = await claim(t1, 'refresh', { refreshIntervalMs: 1 });
      await store.settleRefreshed(downstreamId, r.leaseToken, { audienceSize: 4, targetable: true, reasonsNotTargetable: [] }, t1);
      expect(await downstream()).toMatchObject({ audienceSize: 4, targetable: true, processingSince: null, sizedAt: t1, sizedMembers: 5 });

      await store.applyMemberChanges('a1', [6, 7, 8].map(add), t1);
      const s = await claim(t1 + FLUSH, 'send');
      await store.settleSent(downstreamId, s.leaseToken, { sent: s.changes, rejectedHashes: [] }, t1 + FLUSH);
      const t2 = t1 + 2 * FLUSH;
      r = await claim(t2, 'refresh', { refreshIntervalMs: 1 });
      await store.settleRefreshed(downstreamId, r.leaseToken, { audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING'] }, t2);
      // X's last report stays, with the membership it was read against; X processes since t2.
      expect(await downstream()).toMatchObject({ members: 8, audienceSize: 4, targetable: true, processingSince: t2, sizedAt: t1, sizedMembers: 5 });
      r = await claim(t2 + 1000, 'refresh', { refreshIntervalMs: 1 });
      await store.settleRefreshed(downstreamId, r.leaseToken, { audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING'] }, t2 + 1000);
      expect(await downstream()).toMatchObject({ audienceSize: 4, processingSince: t2 });

      const t3 = t2 + 5000;
      r = await claim(t3, 'refresh', { refreshIntervalMs: 1 });
      await store.settleRefreshed(downstreamId, r.leaseToken, { audienceSize: 7, targetable: true, reasonsNotTargetable: [] }, t3);
      expect(await downstream()).toMatchObject({ audienceSize: 7, targetable: true, processingSince: null, sizedAt: t3, sizedMembers: 8 });
      const samples = await store.listSamples('a1');
      expect(samples.map((x) => [x.at, x.audienceSize, x.sizedMembers])).toEqual([
        [t1, 4, 5],
        [t2, 4, 5],
        [t2 + 1000, 4, 5],
        [t3, 7, 8],
      ]);
      // Only new samples, for a chart that loads incrementally.
      expect((await store.listSamples('a1', t2 + 1000)).map((x) => x.at)).toEqual([t3]);
    });

    it('a first report of PROCESSING is shown as X gives it (there is nothing older to keep)', async () => {
      const r = await claim(t0 + 2 * FLUSH, 'refresh', { refreshIntervalMs: 1 });
      await store.settleRefreshed(
        downstreamId,
        r.leaseToken,
        { audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING', 'TOO_SMALL'] },
        t0 + 2 * FLUSH,
      );
      expect(await downstream()).toMatchObject({ audienceSize: null, targetable: false, reasonsNotTargetable: ['PROCESSING', 'TOO_SMALL'], sizedAt: null });
    });

    it('remembers the X id X lost when the audience is re-created', async () => {
      const t1 = t0 + 2 * FLUSH;
      await store.applyMemberChanges('a1', [add(9)], t1);
      const c = await claim(t1 + FLUSH, 'send');
      await store.settleNotFound(downstreamId, c.leaseToken, 'the audience was deleted on X', t1 + FLUSH);
      expect(await downstream()).toMatchObject({ state: 'recreating', xAudienceId: null, previousXAudienceId: 'x1', recreatedAt: t1 + FLUSH });
      const cr = await claim(t1 + FLUSH + 1, 'create');
      await store.settleCreated(
        downstreamId,
        cr.leaseToken,
        { id: 'x2', name: downstreamName('Buyers', 'email', 2), nameSuffix: 2, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        t1 + FLUSH + 1,
      );
      expect(await downstream()).toMatchObject({ xAudienceId: 'x2', previousXAudienceId: 'x1', recreatedAt: t1 + FLUSH });
    });

    it('records pauses, resumes, re-creations and renames for the chart, and forgets them with the samples', async () => {
      const t1 = t0 + 2 * FLUSH;
      await store.setConfigurationState(configId, 'needs_reauth', 'X refused the token', t1, 'worker');
      // Told twice (every failing call says so): marked once.
      await store.setConfigurationState(configId, 'needs_reauth', 'X refused the token', t1 + 1, 'worker');
      // Re-authorized with new tokens: resumed.
      await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed2' }, t1 + 2, 'cli');
      await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed3' }, t1 + 3, 'cli');
      await store.applyMemberChanges('a1', [add(9)], t1 + 4);
      const c = await claim(t1 + 4 + FLUSH, 'send');
      await store.settleNotFound(downstreamId, c.leaseToken, 'the audience was deleted on X', t1 + 5);
      const cr = await claim(t1 + 6, 'create');
      await store.settleCreated(
        downstreamId,
        cr.leaseToken,
        { id: 'x2', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        t1 + 6,
      );
      await store.putAudience('a1', 'Shoppers', t1 + 7, 'admin_token');
      const rn = await claim(t1 + 8, 'rename');
      expect(await store.settleRenamed(downstreamId, rn.leaseToken, 'Shoppers (email)', 1, t1 + 8)).toBe(true);
      // A lease no longer held renames nothing and marks nothing.
      expect(await store.settleRenamed(downstreamId, rn.leaseToken, 'Other (email)', 1, t1 + 9)).toBe(false);

      const events = await store.listEvents('a1');
      expect(events).toEqual([
        { downstreamId, at: t1, kind: 'paused', detail: null },
        { downstreamId, at: t1 + 2, kind: 'resumed', detail: null },
        { downstreamId, at: t1 + 5, kind: 'recreated', detail: 'x1' },
        { downstreamId, at: t1 + 8, kind: 'renamed', detail: 'Shoppers (email)' },
      ]);
      expect(await store.listEvents('a1', t1 + 2)).toEqual(events.slice(2));
      expect(await store.listEvents('other')).toEqual([]);
      await store.pruneXData(t1 + 6, t1 + 6);
      expect((await store.listEvents('a1')).map((e) => e.kind)).toEqual(['renamed']);
    });

    it('logs deliveries and pages them newest first', async () => {
      const base = { adds: 2, removes: 1, bytes: 300, status: 200, successCount: 3, totalCount: 3, durationMs: 12.4, error: null };
      for (let i = 0; i < 5; i++) await store.recordDelivery(downstreamId, { ...base, at: t0 + i * 1000 });
      const first = await store.listDeliveries('a1', { limit: 3 });
      expect(first.map((d) => d.at)).toEqual([t0 + 4000, t0 + 3000, t0 + 2000]);
      expect(first[0]).toMatchObject({
        downstreamId,
        adds: 2,
        removes: 1,
        bytes: 300,
        status: 200,
        successCount: 3,
        totalCount: 3,
        durationMs: 12,
        error: null,
      });
      const next = await store.listDeliveries('a1', { limit: 3, before: first.at(-1)!.id });
      expect(next.map((d) => d.at)).toEqual([t0 + 1000, t0]);
      expect(await store.listDeliveries('a1', { limit: 3, downstreamIds: [] })).toEqual([]);
      expect(await store.listDeliveries('other', { limit: 3 })).toEqual([]);
      // A failed call: no answer, so no status or counts.
      await store.recordDelivery(downstreamId, { ...base, at: t0 + 5000, status: null, successCount: null, totalCount: null, error: 'timed out' });
      const newest = await store.listDeliveries('a1', { limit: 3, downstreamIds: [downstreamId] });
      expect(newest.map((d) => [d.at, d.status, d.error])).toEqual([
        [t0 + 5000, null, 'timed out'],
        [t0 + 4000, 200, null],
        [t0 + 3000, 200, null],
      ]);
    });

    it('pages the audience list: search, sort, cursor, the attention filter, and their status in a few reads', async () => {
      for (const [id, name] of [
        ['b2', 'beta Winter'],
        ['c3', 'Gamma'],
        ['d4', 'delta winter sale'],
      ] as const)
        await store.putAudience(id, name, t0 + 1, 'admin_token');
      const names = async (q: Parameters<Store['listAudiencePage']>[0]) => (await store.listAudiencePage(q)).audiences.map((a) => a.id);
      expect(await names({ sort: 'name', limit: 10 })).toEqual(['b2', 'a1', 'd4', 'c3']);
      expect(await names({ sort: '-name', limit: 10 })).toEqual(['c3', 'd4', 'a1', 'b2']);
      expect(await names({ sort: 'name', limit: 10, q: 'WINTER' })).toEqual(['b2', 'd4']);
      expect(await names({ sort: 'name', limit: 10, q: 'c3' })).toEqual(['c3']);
      expect(await names({ sort: '-members', limit: 10 })).toEqual(['a1', 'd4', 'c3', 'b2']);
      // Cursor paging visits each audience once, in order.
      const seen: string[] = [];
      let after: { key: string | number; id: string } | undefined;
      for (;;) {
        const page = await store.listAudiencePage({ sort: 'name', limit: 3, ...(after ? { after } : {}) });
        seen.push(...page.audiences.map((a) => a.id));
        if (!page.more) break;
        const last = page.audiences.at(-1)!;
        after = { key: last.sortKey, id: last.id };
      }
      expect(seen).toEqual(['b2', 'a1', 'd4', 'c3']);

      // a1 needs attention once its configuration needs re-authorization; nothing else does.
      expect((await store.listAudiencePage({ sort: 'name', limit: 10 })).attention).toBe(0);
      await store.setConfigurationState(configId, 'needs_reauth', 'X refused the tokens', t0 + 2, 'worker');
      const attention = await store.listAudiencePage({ sort: 'name', limit: 10, state: 'attention' });
      expect(attention.audiences.map((a) => a.id)).toEqual(['a1']);
      expect(attention.attention).toBe(1);
      expect(await names({ sort: 'name', limit: 10, state: 'ok' })).toEqual(['b2', 'd4', 'c3']);
      // A fresh error needs attention; a later success resolves it.
      await store.setConfigurationState(configId, 'active', null, t0 + 3, 'worker');
      const c = await claim(t0 + 5 * FLUSH, 'refresh', { refreshIntervalMs: 1 });
      await store.release(downstreamId, c.leaseToken, { nextAttemptAt: 0, error: 'X is unavailable (503)', countAttempt: true, now: t0 + 5 * FLUSH });
      expect(await names({ sort: 'name', limit: 10, state: 'attention' })).toEqual(['a1']);
      const r = await claim(t0 + 6 * FLUSH, 'refresh', { refreshIntervalMs: 1 });
      await store.settleRefreshed(downstreamId, r.leaseToken, { audienceSize: 150, targetable: true, reasonsNotTargetable: [] }, t0 + 6 * FLUSH);
      expect(await names({ sort: 'name', limit: 10, state: 'attention' })).toEqual([]);

      const status = await store.audiencesStatus(['a1', 'b2'], 5);
      expect(status.connections.map((x) => x.audienceId)).toEqual(['a1']);
      expect(status.downstreams.map((d) => [d.audienceId, d.members, d.target])).toEqual([['a1', 5, 5]]);
      expect(status.errors.map((e) => e.message)).toEqual(['X is unavailable (503)']);
      expect(status.rejections).toEqual([]);
    });
  });
}
