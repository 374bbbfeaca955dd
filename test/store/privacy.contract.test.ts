/**
 * Issue 14 on every store: the retention of X's data (samples older than the limit are gone, X's
 * figures on a downstream audience not refreshed since are cleared, newer ones stay; deleting a
 * configuration deletes the X data that came through it) and the audit log (append-only, newest
 * first, paged by id).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import type { ClaimOptions, Store } from '../../src/store/port.ts';
import { STORES } from './helpers.ts';

const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };
const DAY = 86_400_000;

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
      configId = (await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, t0))
        .configuration.id;
    });
    afterEach(async () => cleanup());

    /** An audience connected for e-mails, its X audience created at t0 and refreshed at each of `at` (X's size then). */
    async function refreshedAt(audienceId: string, at: number[]): Promise<number> {
      await store.putAudience(audienceId, audienceId, t0);
      await store.putConnection(audienceId, configId, EMAIL_ONLY, t0);
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
      expect(await store.pruneXData(cutoff)).toEqual({ samples: 3, downstreams: 1 });

      expect(await store.listSamples('old')).toEqual([]);
      expect(await store.listSamples('mixed')).toEqual([{ downstreamId: mixed, at: t0 + 95 * DAY, members: 0, audienceSize: 1001 }]);
      const [oldDown] = await store.listDownstreams('old');
      expect(oldDown).toMatchObject({ id: old, audienceSize: null, targetable: null, reasonsNotTargetable: [], refreshedAt: t0 + 2 * DAY });
      expect((await store.listDownstreams('mixed'))[0]).toMatchObject({ audienceSize: 1001, targetable: true, reasonsNotTargetable: ['none'] });

      // Idempotent: nothing left to prune.
      expect(await store.pruneXData(cutoff)).toEqual({ samples: 0, downstreams: 0 });
      // A stale downstream audience is refreshed as before: its refresh clock was kept.
      expect((await store.claim(opts(now)))?.task).toBe('refresh');
    });

    it('deleting a configuration deletes the X data that came through it', async () => {
      await refreshedAt('gone', [t0 + DAY]);
      expect((await store.listSamples('gone')).length).toBe(1);
      expect(await store.deleteConnection('gone', configId, t0 + DAY)).toBe(true);
      expect((await store.listDownstreams('gone')).map((d) => [d.state, d.audienceSize])).toEqual([['detached', 1000]]);
      expect(await store.deleteConfiguration(configId)).toBe('deleted');
      expect(await store.listDownstreams('gone')).toEqual([]);
      expect(await store.listSamples('gone')).toEqual([]);
    });

    it('audit log: appended, read newest first, paged by id', async () => {
      for (let i = 0; i < 5; i += 1)
        await store.recordAudit(
          {
            actor: i % 2 ? 'ui_session' : 'admin_token',
            action: 'audience.created',
            objectType: 'audience',
            objectId: `a${i}`,
            audienceId: `a${i}`,
            details: { n: i, on: true, none: null },
          },
          t0 + i,
        );
      await store.recordAudit(
        { actor: 'cli', action: 'configuration.created', objectType: 'configuration', objectId: configId, configurationId: configId },
        t0 + 9,
      );
      const first = await store.listAudit({ limit: 4 });
      expect(first.map((e) => e.objectId)).toEqual([configId, 'a4', 'a3', 'a2']);
      expect(first[0]).toEqual({
        id: first[0]!.id,
        at: t0 + 9,
        actor: 'cli',
        action: 'configuration.created',
        objectType: 'configuration',
        objectId: configId,
        audienceId: null,
        configurationId: configId,
        details: null,
      });
      expect(first[1]).toMatchObject({ actor: 'admin_token', audienceId: 'a4', configurationId: null, details: { n: 4, on: true, none: null } });
      const rest = await store.listAudit({ beforeId: first[3]!.id, limit: 4 });
      expect(rest.map((e) => e.objectId)).toEqual(['a1', 'a0']);
      expect(await store.listAudit({ beforeId: rest[1]!.id, limit: 4 })).toEqual([]);
    });
  });
}
