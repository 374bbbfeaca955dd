import { createHash } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { packUsers } from '../../src/x/pack.ts';
import type { RateLimitInfo, UserChange } from '../../src/x/types.ts';
import { APP, TOKENS, referenceSignature, startStub, xAudience, type Reply, type Stub } from './stub-x.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ACCOUNT = '18ce54d4x5t';
const OAUTH_KEYS = ['oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_token', 'oauth_version'];

let stub: Stub;
beforeAll(async () => {
  stub = await startStub();
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.received.length = 0;
});

describe('Authorization header', () => {
  it('has the shape X documents and a signature oauth-1.0a accepts', async () => {
    stub.handle = () => ({ body: { data: { user_id: '2417045708', permissions: ['ACCOUNT_ADMIN'] } } });
    await stub.client().getUserAccess(TOKENS, ACCOUNT);
    const [req] = stub.received;
    const header = req!.headers.authorization as string;
    expect(header).toMatch(/^OAuth oauth_[a-z_]+="[A-Za-z0-9%\-._~]*"(, oauth_[a-z_]+="[A-Za-z0-9%\-._~]*")*$/);
    expect(Object.keys(req!.oauth)).toEqual(OAUTH_KEYS); // sorted, nothing else
    expect(req!.oauth).toMatchObject({
      oauth_consumer_key: APP.consumerKey,
      oauth_signature_method: 'HMAC-SHA1',
      oauth_token: TOKENS.accessToken,
      oauth_version: '1.0',
    });
    expect(req!.oauth.oauth_timestamp).toMatch(/^\d{10}$/);
    expect(req!.signatureValid).toBe(true);
  });
});

describe('OAuth flow', () => {
  it('requestToken: consumer-only signature, callback in the header, form answer', async () => {
    stub.handle = () => ({
      body: 'oauth_token=req-token&oauth_token_secret=req-secret&oauth_callback_confirmed=true',
      headers: { 'content-type': 'text/html; charset=utf-8' },
    });
    const token = await stub.client().requestToken('https://tailor.example/x/callback');
    expect(token).toEqual({ oauthToken: 'req-token', oauthTokenSecret: 'req-secret', callbackConfirmed: true });
    const [req] = stub.received;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/oauth/request_token');
    expect(req!.oauth.oauth_callback).toBe('https://tailor.example/x/callback');
    expect(req!.oauth.oauth_token).toBeUndefined();
    expect(req!.signatureValid).toBe(true);
  });

  it('authorizeUrl', () => {
    expect(stub.client().authorizeUrl('req token')).toBe(`${stub.url}/oauth/authorize?oauth_token=req%20token`);
  });

  it('accessToken: request token in the header, verifier in the query, signed with the request secret', async () => {
    stub.secrets.set('req-token', 'req-secret');
    stub.handle = () => ({
      body: 'oauth_token=1-acc&oauth_token_secret=acc-secret&user_id=1&screen_name=tailor_test',
    });
    const access = await stub.client().accessToken({ oauthToken: 'req-token', oauthTokenSecret: 'req-secret' }, 'v:1');
    expect(access).toEqual({ accessToken: '1-acc', accessTokenSecret: 'acc-secret', userId: '1', screenName: 'tailor_test' });
    const [req] = stub.received;
    expect(req!.url).toBe('/oauth/access_token?oauth_verifier=v%3A1');
    expect(req!.oauth.oauth_token).toBe('req-token');
    expect(req!.signatureValid).toBe(true);
  });
});

describe('accounts', () => {
  it('listAccounts follows next_cursor', async () => {
    stub.handle = (req) =>
      req.query.get('cursor') === null
        ? { body: { data: [{ id: 'a1', name: 'One', timezone: 'UTC' }], next_cursor: 'c 2' } }
        : { body: { data: [{ id: 'a2', name: 'Two' }], next_cursor: null } };
    const accounts = await stub.client().listAccounts(TOKENS);
    expect(accounts).toEqual([
      { id: 'a1', name: 'One' },
      { id: 'a2', name: 'Two' },
    ]);
    expect(stub.received.map((r) => r.url)).toEqual(['/12/accounts?count=1000', '/12/accounts?count=1000&cursor=c%202']);
    expect(stub.received.every((r) => r.signatureValid)).toBe(true);
  });

  it('getUserAccess', async () => {
    stub.handle = () => ({ body: { data: { user_id: 2417045708, permissions: ['AD_MANAGER'] } } });
    expect(await stub.client().getUserAccess(TOKENS, ACCOUNT)).toEqual({ userId: '2417045708', permissions: ['AD_MANAGER'] });
    expect(stub.received[0]!.url).toBe(`/12/accounts/${ACCOUNT}/authenticated_user_access`);
  });
});

describe('custom audiences', () => {
  it('listAudiences: count=1000, q and with_deleted percent-encoded, all pages, camelCase', async () => {
    const pages: Record<string, { data: unknown[]; next_cursor: string | null }> = {
      '': { data: [xAudience('1nmth', { targetable: true, audience_size: 1470, reasons_not_targetable: [] })], next_cursor: 'p2' },
      p2: { data: [xAudience('2906h', { description: 'tailor:conn=1,type=email' })], next_cursor: 'p3' },
      p3: { data: [xAudience('3abc', { deleted: true, audience_size: '140321' })], next_cursor: null },
    };
    stub.handle = (req) => ({ body: pages[req.query.get('cursor') ?? '']! });
    const list = await stub.client().listAudiences(TOKENS, ACCOUNT, { q: 'Fans: A,B (email)', withDeleted: true });
    expect(list).toEqual([
      {
        id: '1nmth',
        name: 'audience 1nmth',
        description: null,
        audienceSize: 1470,
        targetable: true,
        reasonsNotTargetable: [],
        deleted: false,
      },
      {
        id: '2906h',
        name: 'audience 2906h',
        description: 'tailor:conn=1,type=email',
        audienceSize: null,
        targetable: false,
        reasonsNotTargetable: ['PROCESSING', 'TOO_SMALL'],
        deleted: false,
      },
      {
        id: '3abc',
        name: 'audience 3abc',
        description: null,
        audienceSize: 140321,
        targetable: false,
        reasonsNotTargetable: ['PROCESSING', 'TOO_SMALL'],
        deleted: true,
      },
    ]);
    const base = `/12/accounts/${ACCOUNT}/custom_audiences?q=Fans%3A%20A%2CB%20%28email%29&with_deleted=true&count=1000`;
    expect(stub.received.map((r) => r.url)).toEqual([base, `${base}&cursor=p2`, `${base}&cursor=p3`]);
    expect(stub.received.every((r) => r.signatureValid && r.method === 'GET')).toBe(true);
  });

  it('getAudience', async () => {
    stub.handle = () => ({ body: { data: xAudience('2906h', { audience_size: 140321 }), request: { params: {} } } });
    const a = await stub.client().getAudience(TOKENS, ACCOUNT, '2906h');
    expect(a.audienceSize).toBe(140321);
    expect(stub.received[0]!.url).toBe(`/12/accounts/${ACCOUNT}/custom_audiences/2906h`);
  });

  it('createAudience: POST with name and description in the query, no body', async () => {
    stub.handle = (req) => ({
      body: { data: xAudience('2906h', { name: req.query.get('name'), description: req.query.get('description') }) },
    });
    const created = await stub.client().createAudience(TOKENS, ACCOUNT, { name: 'Fans (email)', description: 'tailor:v1 conn=7,type=email' });
    expect(created).toMatchObject({ id: '2906h', name: 'Fans (email)', description: 'tailor:v1 conn=7,type=email' });
    const [req] = stub.received;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe(`/12/accounts/${ACCOUNT}/custom_audiences?name=Fans%20%28email%29&description=tailor%3Av1%20conn%3D7%2Ctype%3Demail`);
    expect(req!.body).toBe('');
    expect(req!.headers['content-type']).toBeUndefined();
    expect(req!.signatureValid).toBe(true);
  });

  it('updateAudience: PUT with only the fields given', async () => {
    stub.handle = () => ({ body: { data: xAudience('2906h', { name: 'New (email)', is_owner: true }) } });
    const updated = await stub.client().updateAudience(TOKENS, ACCOUNT, '2906h', { name: 'New (email)' });
    expect(updated.name).toBe('New (email)');
    expect(stub.received[0]!.method).toBe('PUT');
    expect(stub.received[0]!.url).toBe(`/12/accounts/${ACCOUNT}/custom_audiences/2906h?name=New%20%28email%29`);
    expect(stub.received[0]!.signatureValid).toBe(true);
  });

  it('deleteAudience: DELETE; a 404 means it is already gone', async () => {
    stub.handle = () => ({ body: { data: xAudience('2906h', { deleted: true }) } });
    await expect(stub.client().deleteAudience(TOKENS, ACCOUNT, '2906h')).resolves.toBeUndefined();
    expect(stub.received[0]!.method).toBe('DELETE');
    expect(stub.received[0]!.signatureValid).toBe(true);
    stub.handle = () => ({ status: 404, body: { errors: [{ code: 'NOT_FOUND', message: 'not found' }] } });
    await expect(stub.client().deleteAudience(TOKENS, ACCOUNT, '2906h')).resolves.toBeUndefined();
  });
});

describe('sendUsers', () => {
  const changes: UserChange[] = [
    { op: 'add', hash: sha('a@example.com') },
    { op: 'remove', hash: sha('b@example.com') },
    { op: 'add', hash: sha('c@example.com') },
  ];

  it('posts the exact JSON body with application/json, the body outside the signature', async () => {
    stub.handle = () => ({ body: { request: { params: {} }, data: { success_count: 3, total_count: 3 } } });
    const [request] = packUsers('email', changes);
    const result = await stub.client().sendUsers(TOKENS, ACCOUNT, '1nmth', request!);
    expect(result).toEqual({ status: 200, successCount: 3, totalCount: 3, operationErrors: [] });

    const [req] = stub.received;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe(`/12/accounts/${ACCOUNT}/custom_audiences/1nmth/users`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toBe(request!.body);
    expect(JSON.parse(req!.body)).toEqual([
      { operation_type: 'Update', params: { users: [{ email: [changes[0]!.hash] }, { email: [changes[2]!.hash] }] } },
      { operation_type: 'Delete', params: { users: [{ email: [changes[1]!.hash] }] } },
    ]);
    // Valid without the body; would not be valid had the body been signed as a parameter.
    expect(req!.signatureValid).toBe(true);
    const withBody = referenceSignature('POST', `${stub.url}${req!.url}`, req!.oauth, TOKENS.accessTokenSecret, {
      [req!.body]: '',
    });
    expect(withBody).not.toBe(req!.oauth.oauth_signature);
  });

  it('returns operation_errors by position when X gives them with a success', async () => {
    stub.handle = () => ({
      body: {
        data: { success_count: 3, total_count: 3 },
        operation_errors: [[], [{ code: 'INVALID_USER', message: 'bad hash' }]],
      },
    });
    const [request] = packUsers('email', changes);
    const result = await stub.client().sendUsers(TOKENS, ACCOUNT, '1nmth', request!);
    expect(result.operationErrors).toEqual([{ operationIndex: 1, code: 'INVALID_USER', message: 'bad hash' }]);
  });

  it('sends nothing for an empty request', async () => {
    const result = await stub.client().sendUsers(TOKENS, ACCOUNT, '1nmth', { identityType: 'email', changes: [], body: '[]' });
    expect(result).toEqual({ successCount: 0, totalCount: 0, operationErrors: [] });
    expect(stub.received).toEqual([]);
  });
});

describe('rate limits, connections, logs', () => {
  it('reports every response’s rate-limit headers, account-level first, keyed by the access token', async () => {
    const seen: [string, RateLimitInfo][] = [];
    const client = stub.client({ onRateLimit: (key, info) => seen.push([key, info]) });
    stub.handle = (req): Reply => ({
      headers:
        req.method === 'GET'
          ? {
              'x-rate-limit-limit': '2000',
              'x-rate-limit-remaining': '1999',
              'x-rate-limit-reset': '1893499999',
              'x-account-rate-limit-limit': '10000',
              'x-account-rate-limit-remaining': '9998',
              'x-account-rate-limit-reset': '1893499500',
            }
          : { 'x-rate-limit-limit': '1500', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1893499060' },
      body: req.method === 'GET' ? { data: xAudience('1') } : { errors: [{ code: 'TOO_MANY_REQUESTS' }] },
      status: req.method === 'GET' ? 200 : 429,
    });
    await client.getAudience(TOKENS, ACCOUNT, '1');
    const [request] = packUsers('email', [{ op: 'add', hash: sha('x') }]);
    await expect(client.sendUsers(TOKENS, ACCOUNT, '1', request!)).rejects.toThrow();
    expect(seen).toEqual([
      [TOKENS.accessToken, { limit: 10000, remaining: 9998, resetAt: 1893499500_000, scope: 'account', accountId: ACCOUNT }],
      [TOKENS.accessToken, { limit: 1500, remaining: 0, resetAt: 1893499060_000, scope: 'token', accountId: ACCOUNT }],
    ]);
  });

  it('reuses one kept-alive connection for consecutive calls', async () => {
    stub.handle = () => ({ body: { data: xAudience('1') } });
    const client = stub.client();
    for (let i = 0; i < 5; i++) await client.getAudience(TOKENS, ACCOUNT, '1');
    // Sequential calls: with no keep-alive every call would open a socket of its own. (The pool
    // may rotate among idle sockets left by earlier tests, so "fewer", not "one".)
    const ports = stub.received.map((r) => r.remotePort);
    expect(new Set(ports).size).toBeLessThan(ports.length);
  });

  it('logs calls without tokens, query values or bodies; works with a pino logger', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    stub.handle = (req) => ({ body: req.path.endsWith('/users') ? { data: { success_count: 1, total_count: 1 } } : { data: xAudience('1') } });
    const client = stub.client({ logger });
    const hash = sha('secret@example.com');
    const [request] = packUsers('email', [{ op: 'add', hash }]);
    await client.sendUsers(TOKENS, ACCOUNT, '1', request!);
    await client.createAudience(TOKENS, ACCOUNT, { name: 'Private name' });
    const log = lines.join('\n');
    expect(lines.length).toBe(2);
    expect(log).toContain('/custom_audiences/1/users');
    for (const secret of [TOKENS.accessToken, TOKENS.accessTokenSecret, APP.consumerSecret, hash, 'Private']) {
      expect(log).not.toContain(secret);
    }
  });
});
