/**
 * The audit log end to end through HTTP, on both dialects (issue 14): changes made with the admin
 * token, from a web UI session and by the Firehose are each recorded with their actor and object
 * ids, read back newest first through `GET /api/v1/audit` with the typed client's cursor paging,
 * and no raw identity ever reaches the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from 'tailor/client';
import { fixture, forAccount } from '../firehose/helpers.ts';
import { startInProcess, type InProcess } from '../support/in-process.ts';
import { STORES } from '../store/helpers.ts';

const ACCOUNT = 'auditacct1';

for (const factory of STORES) {
  describe(`the audit log over HTTP (${factory.name})`, () => {
    let tailor: InProcess;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await factory.open();
      cleanup = opened.cleanup;
      tailor = await startInProcess({ store: opened.store, listen: true, configurationAccount: ACCOUNT, logLevel: 'silent' });
    });
    afterAll(async () => {
      await tailor?.close();
      await cleanup?.();
    });

    async function uiSession(): Promise<{ cookie: string; csrf: string }> {
      const res = await tailor.app.inject({
        method: 'POST',
        url: '/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${tailor.adminToken}`,
      });
      expect(res.statusCode).toBe(303);
      const cookie = String(res.headers['set-cookie']).split(';')[0]!;
      const page = await tailor.app.inject({ method: 'GET', url: '/audit', headers: { cookie } });
      expect(page.statusCode).toBe(200);
      return { cookie, csrf: /name="csrf-token" content="([^"]+)"/.exec(page.body)![1]! };
    }

    it('records every change with its actor and object ids, newest first, paged by cursor', async () => {
      const client = tailor.client();
      const configId = tailor.configuration!.id;
      // The admin token, through the typed client.
      await client.putAudience('shoppers', { name: 'Shoppers' });
      await client.putAudience('shoppers', { name: 'Shoppers' }); // unchanged: nothing to record
      await client.putAudience('shoppers', { name: 'Buyers' });
      await client.connect('shoppers', configId, { forward_device_ids: false });
      await client.changeMembers('shoppers', { add: [{ user_id: 'jane@example.com', email: 'jane@example.com', twitter_handle: '@jane' }] });
      // A web UI session (its cookie and CSRF header, no Authorization).
      const { cookie, csrf } = await uiSession();
      const ui = await tailor.app.inject({
        method: 'PUT',
        url: '/api/v1/audiences/from-ui',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'From the UI' }),
      });
      expect(ui.statusCode).toBe(201);
      // mParticle's Firehose: a subscription for the configuration's account.
      const sub = await tailor.app.inject({
        method: 'POST',
        url: '/firehose',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(forAccount(fixture('subscription-add.json'), ACCOUNT)),
      });
      expect(sub.statusCode).toBe(200);
      await client.disconnect('shoppers', configId);
      await client.deleteAudience('shoppers');

      const entries: Schemas['AuditEntry'][] = [];
      let pages = 0;
      for await (const page of client.pages('/api/v1/audit', { limit: 2 })) {
        pages += 1;
        expect(page.data.length).toBeLessThanOrEqual(2);
        entries.push(...page.data);
      }
      expect(pages).toBe(Math.ceil(entries.length / 2));
      const all: Schemas['AuditEntry'][] = [];
      for await (const e of client.each('/api/v1/audit')) all.push(e);
      expect(all).toEqual(entries);

      const seen = entries.map((e) => [e.actor, e.action, e.object_id]);
      expect(seen).toEqual([
        ['admin_token', 'audience.deleted', 'shoppers'],
        ['admin_token', 'connection.deleted', `shoppers/${configId}`],
        ['firehose', 'connection.created', `7622/${configId}`],
        ['firehose', 'audience.created', '7622'],
        ['ui_session', 'audience.created', 'from-ui'],
        ['admin_token', 'connection.created', `shoppers/${configId}`],
        ['admin_token', 'audience.renamed', 'shoppers'],
        ['admin_token', 'audience.created', 'shoppers'],
        // The harness's configuration, stored as `tailor configurations add` would.
        ['cli', 'configuration.created', configId],
      ]);
      expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => b - a));
      expect(entries[5]).toMatchObject({
        object_type: 'connection',
        audience_id: 'shoppers',
        configuration_id: configId,
        details: { forward_emails: true, forward_twitter_handles: true, forward_device_ids: false, forward_phone_numbers: false, send_interval_minutes: null },
      });
      for (const e of entries) expect(Date.parse(e.at)).toBeGreaterThan(Date.now() - 60_000);
      // Never a raw identity (nor the user id, which is one).
      const text = JSON.stringify(entries);
      for (const raw of ['jane@example.com', '@jane', 'jane']) expect(text).not.toContain(raw);
    });

    it('records suppression changes and erasures (REST and Firehose) once each, by id and counts, never whom', async () => {
      const client = tailor.client();
      const newest = async (n: number): Promise<Schemas['AuditEntry'][]> => (await client.audit({ limit: n })).data;
      const before = (await newest(1))[0]?.id ?? 0;
      // Through the typed client: the regenerated types know main's privacy routes.
      const sup = await client.request('post', '/api/v1/suppressions', { body: { add: [{ email: 'opt.out@example.com' }, { email: 'not an e-mail' }] } });
      expect(sup).toMatchObject({ added: 1, lifted: 0 });
      // Nothing changed (already listed, nothing lifted): nothing to record.
      expect((await tailor.api('POST', '/api/v1/suppressions', { add: [{ email: 'opt.out@example.com' }] })).status).toBe(202);
      expect((await tailor.api('POST', '/api/v1/suppressions', { remove: [{ email: 'opt.out@example.com' }] })).status).toBe(202);
      const erasure = await tailor.api('POST', '/api/v1/erasures', { user_id: 'erase-me-42', email: 'erase.me@example.com' });
      expect(erasure.status).toBe(202);
      // Asked again: the same erasure, recorded once.
      expect((await tailor.api('POST', '/api/v1/erasures', { user_id: 'erase-me-42', email: 'erase.me@example.com' })).body.id).toBe(erasure.body.id);
      const dsr = { ...forAccount(fixture('dsr-erasure-request.json'), ACCOUNT), subject_request_id: 'audit-dsr-1' };
      for (let i = 0; i < 2; i++) {
        const res = await tailor.app.inject({
          method: 'POST',
          url: '/firehose',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(dsr),
        });
        expect(res.statusCode).toBe(200);
      }

      const entries = (await newest(10)).filter((e) => e.id > before);
      // Nobody held the erased identities: each erasure is done at once, and says so.
      expect(entries.map((e) => [e.actor, e.action, e.object_type])).toEqual([
        ['firehose', 'erasure.completed', 'erasure'],
        ['firehose', 'erasure.requested', 'erasure'],
        ['admin_token', 'erasure.completed', 'erasure'],
        ['admin_token', 'erasure.requested', 'erasure'],
        ['admin_token', 'suppression.changed', 'suppression'],
        ['admin_token', 'suppression.changed', 'suppression'],
      ]);
      expect(entries[3]).toMatchObject({ object_id: erasure.body.id, details: { source: 'api', members_erased: 0, x_audiences: 0, unusable_identities: 0 } });
      expect(entries[2]).toMatchObject({ object_id: erasure.body.id, details: null });
      expect(entries[1]).toMatchObject({ details: { source: 'firehose', unusable_identities: 0 } });
      expect(entries[1]!.object_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(entries[0]!.object_id).toBe(entries[1]!.object_id);
      expect(entries[5]).toMatchObject({ object_id: null, details: { added: 1, lifted: 0, queued: 0, rejected: 1 } });
      expect(entries[4]).toMatchObject({ object_id: null, details: { added: 0, lifted: 1 } });
      const text = JSON.stringify(entries).toLowerCase();
      for (const raw of ['opt.out', 'erase.me', 'erase-me-42', 'jane.doe', '66b728c2', 'not an e-mail']) expect(text).not.toContain(raw);
    });

    it('refuses a cursor it never gave out and a bad limit, naming the field', async () => {
      for (const q of ['cursor=bm9wZQ', 'cursor=%E2%80%AE', 'limit=0', 'limit=201', 'limit=ten', 'other=1']) {
        const res = await tailor.api('GET', `/api/v1/audit?${q}`);
        expect(res.status, q).toBe(400);
        expect(res.body.error.code).toBe('invalid_request');
      }
    });
  });
}
