/**
 * NUL on PostgreSQL (issue 11, item 1): PostgreSQL refuses a text parameter holding NUL with an
 * error (22021), which reached the client as a 500. Every client string that can reach a query
 * (path ids, names, account ids, member keys, identifiers) is now checked first: each request
 * below is a 4xx, or processed with the NUL cleaned out (Firehose audience names), never a 5xx.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { createTestDatabase, type TestDatabase } from '../store/pg.ts';
import { testServices } from '../support/services.ts';
import { signInCookie } from '../support/sign-in.ts';

const TOKEN = 'postgres-nul-admin-token-0123';
const ACCOUNT = 'acctnul1';

describe('NUL in client strings on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  let app: FastifyInstance;
  let configId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openPostgresStore(db.url);
    const s = testServices(store);
    configId = (
      await store.putConfiguration({ name: 'Nul', accountId: ACCOUNT, accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, Date.now(), 'cli')
    ).configuration.id;
    await store.putAudience('ok', 'OK', Date.now(), 'admin_token');
    app = await buildServer(s, { adminToken: TOKEN, firehoseToken: null });
    await app.ready();
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await db?.drop();
  });

  async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.statusCode, `${method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`).toBeLessThan(500);
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
  }

  it('path ids holding NUL are a 404, not a database error', async () => {
    for (const [method, url, body] of [
      ['GET', '/api/v1/audiences/a%00b'],
      ['GET', '/api/v1/audiences/a%00b/history'],
      ['DELETE', '/api/v1/audiences/a%00b'],
      ['POST', '/api/v1/audiences/a%00b/members', { add: [] }],
      ['PUT', `/api/v1/audiences/ok/connections/c%00`, {}],
      ['PUT', `/api/v1/audiences/a%00b/connections/${configId}`, {}],
      ['DELETE', `/api/v1/audiences/ok/connections/c%00`],
      ['DELETE', '/api/v1/configurations/c%00'],
    ] as [string, string, unknown?][]) {
      expect((await call(method, url, body)).status, `${method} ${url}`).toBe(404);
    }
  });

  it("the UI's own read of a deleted audience takes a NUL id as unknown, not as a database error", async () => {
    const cookie = await signInCookie(app, TOKEN);
    const res = await app.inject({ method: 'GET', url: '/ui/deleting/a%00b', headers: { cookie } });
    expect(res.statusCode).toBe(404);
  });

  it('names, member keys and identifiers holding NUL are refused or rejected', async () => {
    expect((await call('PUT', '/api/v1/audiences/ok', { name: 'a\u0000b' })).status).toBe(400);
    expect((await call('POST', '/api/v1/configurations', { name: 'n\u0000', account_id: 'abc', access_token: 't', access_token_secret: 's' })).status).toBe(
      400,
    );
    expect((await call('POST', '/api/v1/audiences/ok/members', { add: [{ user_id: 'u\u0000', email: 'a@example.com' }] })).status).toBe(400);
    const res = await call('POST', '/api/v1/audiences/ok/members', { add: [{ user_id: 'u1', email: 'a\u0000@example.com' }] });
    expect(res.status).toBe(202);
    expect(res.body.rejected[0].reason).toBe('invalid_encoding');
  });

  it('Firehose: an accountId holding NUL is a 400; audience names are cleaned and stored', async () => {
    const account = (accountId: string) => ({ account_id: 1, account_settings: { accountId } });
    let res = await call('POST', '/firehose', { type: 'audience_membership_change_request', account: account(`${ACCOUNT}\u0000`), user_profiles: [] });
    expect(res.status).toBe(400);
    res = await call('POST', '/firehose', {
      type: 'audience_subscription_request',
      account: account(`${ACCOUNT}\u0000`),
      audience_id: 5,
      audience_name: 'x',
      action: 'add',
    });
    expect(res.status).toBe(400);
    res = await call('POST', '/firehose', {
      type: 'audience_subscription_request',
      account: account(ACCOUNT),
      audience_id: 5,
      audience_name: 'Nul\u0000name',
      action: 'add',
    });
    expect(res.status).toBe(200);
    res = await call('POST', '/firehose', {
      type: 'audience_membership_change_request',
      account: account(ACCOUNT),
      user_profiles: [
        {
          mpid: '1',
          user_identities: [
            { type: 'email', value: 'n\u0000@example.com' },
            { type: 'email', value: 'fine@example.com' },
          ],
          audiences: [{ audience_id: 6, audience_name: 'Another\u0000one', action: 'add' }],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect((await store.getAudience('5'))?.name).toBe('Nul name');
    const six = (await call('GET', '/api/v1/audiences/6')).body;
    expect(six).toMatchObject({ name: 'Another one', members: 1, rejected_identities: [expect.objectContaining({ reason: 'invalid_encoding', count: 1 })] });
  });
});
