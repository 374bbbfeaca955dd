/** The alert watch and the webhook outbox (port.ts AlertStore), on both dialects. */
import { afterEach, describe, expect, it } from 'vitest';
import { ERASURE_DUE_MS, alertRule } from '../../src/alerts/rule.ts';
import { downstreamName } from '../../src/core/names.ts';
import type { NewWebhookEvent, Store } from '../../src/store/port.ts';
import { STORES, h } from './helpers.ts';

const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };

/** Runs every due task as an X that accepts everything would, until nothing is due. */
async function drain(store: Store, at: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const c = await store.claim({ owner: 'w', now: at, leaseMs: 30_000, flushIntervalMs: 0, fullBatch: 1000, maxChanges: 1000, refreshIntervalMs: 1e12 });
    if (!c) return;
    const d = c.downstream;
    if (c.task === 'create')
      await store.settleCreated(
        d.id,
        c.leaseToken,
        {
          id: `x${d.id}`,
          name: downstreamName(c.audienceName!, d.identityType, 1),
          nameSuffix: 1,
          audienceSize: null,
          targetable: true,
          reasonsNotTargetable: [],
        },
        at,
      );
    else if (c.task === 'send') await store.settleSent(d.id, c.leaseToken, { sent: c.changes, renewed: c.renewals, rejectedHashes: [] }, at);
    else if (c.task === 'refresh') await store.settleRefreshed(d.id, c.leaseToken, { audienceSize: 0, targetable: true, reasonsNotTargetable: [] }, at);
    else throw new Error(`unexpected task ${c.task}`);
  }
  throw new Error('drain did not settle');
}

for (const factory of STORES) {
  describe(`alerts on ${factory.name}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });
    const open = async (): Promise<Store> => {
      const opened = await factory.open();
      cleanup = opened.cleanup;
      return opened.store;
    };
    const watch = (store: Store, now: number, deliver = true) =>
      store.watchAlerts(now, { deliver, erasuresOverdueBefore: now - ERASURE_DUE_MS }, (seen, previous) =>
        alertRule(seen, previous, { now, alertAfterMs: 60_000 }),
      );
    const configuration = (store: Store) =>
      store.putConfiguration({ name: 'Acme', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, 1, 'cli');

    it('raises a transition once, even when two watches run at once', async () => {
      const store = await open();
      const { configuration: c } = await configuration(store);
      await watch(store, 10);
      await store.setConfigurationState(c.id, 'needs_reauth', 'revoked', 11, 'worker');
      const [a, b] = await Promise.all([watch(store, 12), watch(store, 12)]);
      expect([...a, ...b].map((e) => e.type)).toEqual(['configuration.needs_reauth']);
      expect(await watch(store, 13)).toEqual([]);
      const listed = await store.listWebhookEvents(10);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ type: 'configuration.needs_reauth', delivery: 'pending', attempts: 0 });
      expect(JSON.parse(listed[0]!.body).objects.configuration).toEqual({ id: c.id, name: 'Acme', account_id: 'acc1' });
    });

    it('leases a pending event to one owner, retries it when refused, and keeps it delivered', async () => {
      const store = await open();
      const { configuration: c } = await configuration(store);
      await store.setConfigurationState(c.id, 'needs_reauth', 'revoked', 1, 'worker');
      const [event] = await watch(store, 100);
      expect(await store.nextWebhookAt()).toBe(100);

      const [claim] = await store.claimWebhooks('w1', 100, 30_000, 10);
      expect(claim!.event.id).toBe(event!.id);
      expect(await store.claimWebhooks('w2', 101, 30_000, 10)).toEqual([]); // leased
      expect(await store.settleWebhook(event!.id, 'not-the-token', { delivered: true, status: 200, error: null, nextAttemptAt: 0 }, 102)).toBe(false);
      expect(await store.settleWebhook(event!.id, claim!.token, { delivered: false, status: 500, error: 'HTTP 500', nextAttemptAt: 5_000 }, 102)).toBe(true);
      expect(await store.claimWebhooks('w2', 4_999, 30_000, 10)).toEqual([]); // backing off
      expect(await store.nextWebhookAt()).toBe(5_000);

      const [retry] = await store.claimWebhooks('w2', 5_000, 30_000, 10);
      expect(retry!.event).toMatchObject({ id: event!.id, attempts: 1, lastStatus: 500, lastError: 'HTTP 500' });
      expect(await store.settleWebhook(event!.id, retry!.token, { delivered: true, status: 204, error: null, nextAttemptAt: 5_001 }, 5_001)).toBe(true);
      expect(await store.claimWebhooks('w3', 999_999, 30_000, 10)).toEqual([]);
      expect(await store.nextWebhookAt()).toBeNull();
      expect((await store.listWebhookEvents(10))[0]).toMatchObject({ delivery: 'delivered', attempts: 2, lastStatus: 204, deliveredAt: 5_001 });
    });

    it('takes over a lease that expired (a process died mid-delivery)', async () => {
      const store = await open();
      const { configuration: c } = await configuration(store);
      await store.setConfigurationState(c.id, 'needs_reauth', 'revoked', 1, 'worker');
      await watch(store, 100);
      const [dead] = await store.claimWebhooks('dead', 100, 1_000, 10);
      const [taken] = await store.claimWebhooks('alive', 1_100, 1_000, 10);
      expect(taken!.event.id).toBe(dead!.event.id);
      expect(await store.settleWebhook(dead!.event.id, dead!.token, { delivered: true, status: 200, error: null, nextAttemptAt: 0 }, 1_101)).toBe(false);
    });

    it('records events as unsent when no webhook is configured', async () => {
      const store = await open();
      const { configuration: c } = await configuration(store);
      await store.setConfigurationState(c.id, 'needs_reauth', 'revoked', 1, 'worker');
      await watch(store, 100, false);
      expect((await store.listWebhookEvents(10))[0]!.delivery).toBe('unsent');
      expect(await store.claimWebhooks('w', 1_000, 1_000, 10)).toEqual([]);
    });

    it('reports an erasure not done 20 hours after it was requested, once, and when it completes', async () => {
      const store = await open();
      const { configuration: c } = await configuration(store);
      await store.putAudience('a1', 'Buyers', 1, 'admin_token');
      await store.putConnection('a1', c.id, EMAIL_ONLY, 1, 'admin_token');
      await store.applyMemberChanges('a1', [{ memberKey: 'user:p', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], 1);
      await drain(store, 2);
      const t0 = 1_000_000;
      const { erasure } = await store.erase(
        { requestKey: 'k1', source: 'api', memberKeys: [], identities: [{ type: 'email', hash: h(1) }] },
        t0,
        'admin_token',
      );
      expect(erasure.state).toBe('pending');
      // Done at once (nothing to find): never overdue.
      await store.erase({ requestKey: 'k2', source: 'api', memberKeys: ['user:nobody'], identities: [] }, t0, 'admin_token');

      const overdue = (events: NewWebhookEvent[]) => events.filter((e) => e.type.startsWith('erasure.'));
      expect(overdue(await watch(store, t0 + ERASURE_DUE_MS))).toEqual([]); // exactly 20 h: not yet
      const [a, b] = await Promise.all([watch(store, t0 + ERASURE_DUE_MS + 1), watch(store, t0 + ERASURE_DUE_MS + 1)]);
      const raised = overdue([...a, ...b]);
      expect(raised.map((e) => e.type)).toEqual(['erasure.overdue']);
      expect(JSON.parse(raised[0]!.body)).toMatchObject({
        objects: { erasure: { id: erasure.id } },
        details: { requested_at: new Date(t0).toISOString() },
      });
      expect(overdue(await watch(store, t0 + 2 * ERASURE_DUE_MS))).toEqual([]);

      await drain(store, t0 + 2 * ERASURE_DUE_MS);
      expect((await store.getErasure(erasure.id))!.state).toBe('done');
      expect(overdue(await watch(store, t0 + 2 * ERASURE_DUE_MS + 1)).map((e) => e.type)).toEqual(['erasure.completed']);
      expect(overdue(await watch(store, t0 + 2 * ERASURE_DUE_MS + 2))).toEqual([]);
    });
  });
}
