/** The alert watch and the webhook outbox (port.ts AlertStore), on both dialects. */
import { afterEach, describe, expect, it } from 'vitest';
import { alertRule } from '../../src/alerts/rule.ts';
import type { Store } from '../../src/store/port.ts';
import { STORES } from './helpers.ts';

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
      store.watchAlerts(now, deliver, (seen, previous) => alertRule(seen, previous, { now, alertAfterMs: 60_000 }));
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
  });
}
