import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { Emu } from '../e2e/harness.ts';
import { testServices } from '../support/services.ts';

const TOKEN = 'rest-test-admin-token-0123';

describe('REST API in process', () => {
  let emu: Emu;
  let app: FastifyInstance;
  let store: SqliteStore;
  let dir: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    emu = await Emu.start();
    dir = mkdtempSync(join(tmpdir(), 'tailor-rest-'));
    store = SqliteStore.open(join(dir, 'tailor.db'));
    const s = testServices(store, { emu });
    app = await buildServer(s, { adminToken: TOKEN, firehoseToken: null });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ROUTES: [string, string][] = [
    ['GET', '/api/v1/configurations'],
    ['POST', '/api/v1/configurations'],
    ['DELETE', '/api/v1/configurations/c1'],
    ['GET', '/api/v1/audiences'],
    ['GET', '/api/v1/audiences/a1'],
    ['GET', '/api/v1/audiences/a1/history'],
    ['PUT', '/api/v1/audiences/a1'],
    ['DELETE', '/api/v1/audiences/a1'],
    ['PUT', '/api/v1/audiences/a1/connections/c1'],
    ['DELETE', '/api/v1/audiences/a1/connections/c1'],
    ['POST', '/api/v1/audiences/a1/members'],
  ];

  it.each(ROUTES)('%s %s needs the bearer token', async (method, url) => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-xxxxxxxx' }, { authorization: TOKEN }]) {
      const res = await app.inject({ method: method as 'GET', url, headers, payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
  });

  it('validates input and names the bad field; stores nothing from a rejected request', async () => {
    let res = await app.inject({ method: 'PUT', url: '/api/v1/audiences/a%20b', headers: auth, payload: { name: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/audienceId/);
    res = await app.inject({ method: 'PUT', url: '/api/v1/audiences/a1', headers: auth, payload: { name: '' } });
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/name/) } });
    expect((await app.inject({ method: 'PUT', url: '/api/v1/audiences/a1', headers: auth, payload: { name: 'One' } })).statusCode).toBe(201);
    res = await app.inject({
      method: 'POST',
      url: '/api/v1/audiences/a1/members',
      headers: auth,
      payload: { add: [{ user_id: 'u', email: 'a@b.c' }, { emial: 'typo@example.com' }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/add\[1\]/);
    expect(await store.countMembers('a1')).toBe(0);
    res = await app.inject({ method: 'POST', url: '/api/v1/audiences/nope/members', headers: auth, payload: { add: [] } });
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
    // A connection that would forward nothing is refused, whatever else is wrong with it.
    res = await app.inject({
      method: 'PUT',
      url: '/api/v1/audiences/a1/connections/c1',
      headers: auth,
      payload: { forward_emails: false, forward_twitter_handles: false, forward_device_ids: false, forward_phone_numbers: false },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/at least one identity type/) });
    res = await app.inject({
      method: 'PUT',
      url: '/api/v1/audiences/a1/connections/c1',
      headers: auth,
      payload: { forward_emails: false, forward_twitter_handles: false, forward_device_ids: false },
    });
    expect(res.statusCode).toBe(400);
    // One type on is a connection (here refused only because c1 does not exist).
    res = await app.inject({
      method: 'PUT',
      url: '/api/v1/audiences/a1/connections/c1',
      headers: auth,
      payload: { forward_emails: false, forward_twitter_handles: false },
    });
    expect(res.json().error.code).toBe('not_found');
  });

  it('answers malformed JSON, prototype pollution and wrong content types with 4xx envelopes', async () => {
    let res = await app.inject({ method: 'PUT', url: '/api/v1/audiences/a2', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_request');
    res = await app.inject({
      method: 'PUT',
      url: '/api/v1/audiences/a2',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name":"x","__proto__":{"admin":true}}',
    });
    expect(res.statusCode).toBe(400);
    res = await app.inject({
      method: 'PUT',
      url: '/api/v1/audiences/a2',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=x',
    });
    expect(res.statusCode).toBe(415);
    res = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: auth });
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('adds a configuration validated on X, refuses a login without ACCOUNT_ADMIN, and refuses deletion while in use', async () => {
    const { user, accountId } = emu.admin();
    let res = await app.inject({
      method: 'POST',
      url: '/api/v1/configurations',
      headers: auth,
      payload: { account_id: accountId, access_token: user.access_token, access_token_secret: user.access_token_secret },
    });
    expect(res.statusCode).toBe(201);
    const config = res.json();
    expect(config).toMatchObject({ account_id: accountId, state: 'active' });
    expect(JSON.stringify(config)).not.toContain(user.access_token);
    const analyst = emu.creds.users.find((u) => u.accounts.every((a) => !a.permissions.includes('ACCOUNT_ADMIN')))!;
    res = await app.inject({
      method: 'POST',
      url: '/api/v1/configurations',
      headers: auth,
      payload: { account_id: analyst.accounts[0]!.id, access_token: analyst.access_token, access_token_secret: analyst.access_token_secret },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toMatch(/ACCOUNT_ADMIN/);
    res = await app.inject({
      method: 'POST',
      url: '/api/v1/configurations',
      headers: auth,
      payload: { account_id: accountId, access_token: 'bogus', access_token_secret: 'bogus' },
    });
    expect(res.statusCode).toBe(422);

    expect((await app.inject({ method: 'PUT', url: `/api/v1/audiences/a1/connections/${config.id}`, headers: auth, payload: {} })).statusCode).toBe(201);
    res = await app.inject({ method: 'DELETE', url: `/api/v1/configurations/${config.id}`, headers: auth });
    expect(res.statusCode).toBe(409);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/audiences/a1/connections/${config.id}`, headers: auth })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/configurations/${config.id}`, headers: auth })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/configurations/${config.id}`, headers: auth })).statusCode).toBe(404);
  });

  it('answers 502 x_unavailable when X cannot be asked about the tokens, and stores nothing', async () => {
    const { user, accountId } = emu.admin();
    const before = (await store.listConfigurations()).length;
    await emu.faults({ error_every: 1, error_status: 503 });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/configurations',
        headers: auth,
        payload: { account_id: accountId, access_token: user.access_token, access_token_secret: user.access_token_secret },
      });
      expect(res.statusCode).toBe(502);
      expect(res.json().error).toMatchObject({ code: 'x_unavailable', message: expect.stringMatching(/^Could not reach X to check the tokens: /) });
    } finally {
      await emu.faults({ reset: true });
    }
    expect(await store.listConfigurations()).toHaveLength(before);
  });

  it('answers health and readiness without credentials', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });
});
