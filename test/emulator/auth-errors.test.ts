/** Every way a signed call can fail authentication gets X's 401 body; the reason is in a header. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call, signer, tokenOf, UNAUTHORIZED } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

const accountsPath = () => `/12/accounts/${bench.account}`;

function expect401(res: { status: number; body: unknown; headers: Headers }, reason: string): void {
  expect(res.status).toBe(401);
  expect(res.body).toEqual(UNAUTHORIZED);
  expect(res.headers.get('x-current-api-version')).toBe('12');
  expect(res.headers.get('x-emulator-auth-failure')).toBe(reason);
}

describe('OAuth 1.0a verification on /12/', () => {
  it('accepts a correctly signed call', async () => {
    const res = await call(bench, 'GET', accountsPath(), { token: bench.adminToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-current-api-version')).toBe('12');
  });

  it('rejects a call without Authorization', async () => {
    expect401(await call(bench, 'GET', accountsPath(), { unsigned: true }), 'missing_authorization');
  });

  it('rejects a malformed Authorization header', async () => {
    const res = await fetch(`${bench.url}${accountsPath()}`, { headers: { authorization: 'OAuth garbage' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-emulator-auth-failure')).toBe('malformed_authorization');
  });

  it('rejects a bad signature (wrong consumer secret)', async () => {
    expect401(await call(bench, 'GET', accountsPath(), { token: bench.adminToken, wrongSecret: true }), 'bad_signature');
  });

  it('rejects a bad signature (wrong token secret)', async () => {
    const token = { key: bench.adminToken.key, secret: 'wrong' };
    expect401(await call(bench, 'GET', accountsPath(), { token }), 'bad_signature');
  });

  it('signs query parameters: a query changed after signing fails', async () => {
    const url = `${bench.url}/12/accounts/${bench.account}/custom_audiences?count=5`;
    const oauth = signer(bench);
    const header = oauth.toHeader(oauth.authorize({ url, method: 'GET' }, bench.adminToken)).Authorization;
    const ok = await fetch(url, { headers: { authorization: header } });
    expect(ok.status).toBe(200);
    const oauth2 = signer(bench);
    const header2 = oauth2.toHeader(oauth2.authorize({ url, method: 'GET' }, bench.adminToken)).Authorization;
    const tampered = await fetch(url.replace('count=5', 'count=6'), { headers: { authorization: header2 } });
    expect(tampered.status).toBe(401);
  });

  it('signs form parameters: a form body changed after signing fails', async () => {
    const url = `${bench.url}/12/accounts/${bench.account}/custom_audiences`;
    const oauth = signer(bench);
    const header = oauth.toHeader(oauth.authorize({ url, method: 'POST', data: { name: 'signed-form' } }, bench.adminToken)).Authorization;
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: header, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=tampered',
    });
    expect(res.status).toBe(401);
    const ok = await call(bench, 'POST', '/12/accounts/' + bench.account + '/custom_audiences', {
      token: bench.adminToken,
      form: { name: 'signed form + spaces' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.data.name).toBe('signed form + spaces');
  });

  it('does not sign a JSON body', async () => {
    const id = (await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken, query: { name: 'json-unsigned' } })).body
      .data.id;
    const res = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences/${id}/users`, {
      token: bench.adminToken,
      json: [{ operation_type: 'Update', params: { users: [{ handle: ['a'.repeat(64)] }] } }],
    });
    expect(res.status).toBe(200);
  });

  it('rejects a stale timestamp, past or future, and accepts small skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect401(await call(bench, 'GET', accountsPath(), { token: bench.adminToken, timestamp: now - 301 - 5 }), 'stale_timestamp');
    expect401(await call(bench, 'GET', accountsPath(), { token: bench.adminToken, timestamp: now + 301 + 5 }), 'stale_timestamp');
    expect((await call(bench, 'GET', accountsPath(), { token: bench.adminToken, timestamp: now - 200 })).status).toBe(200);
  });

  it('rejects a reused nonce', async () => {
    const nonce = `nonce-${Date.now()}`;
    expect((await call(bench, 'GET', accountsPath(), { token: bench.adminToken, nonce })).status).toBe(200);
    expect401(await call(bench, 'GET', accountsPath(), { token: bench.adminToken, nonce }), 'reused_nonce');
    // Also with another token of the same consumer: nonces are per consumer key.
    expect401(await call(bench, 'GET', accountsPath(), { token: tokenOf(bench.analyst), nonce }), 'reused_nonce');
  });

  it('does not burn a nonce on a failed signature', async () => {
    const nonce = `burn-${Date.now()}`;
    expect401(await call(bench, 'GET', accountsPath(), { token: bench.adminToken, nonce, wrongSecret: true }), 'bad_signature');
    expect((await call(bench, 'GET', accountsPath(), { token: bench.adminToken, nonce })).status).toBe(200);
  });

  it('rejects an unknown token and an unknown consumer key', async () => {
    expect401(await call(bench, 'GET', accountsPath(), { token: { key: '123-nope', secret: 'x' } }), 'unknown_token');
    expect401(await call(bench, 'GET', accountsPath(), { token: bench.adminToken, consumerKey: 'other-app' }), 'unknown_consumer');
  });

  it('rejects a revoked token until it is restored', async () => {
    const token = tokenOf(bench.manager);
    expect((await call(bench, 'GET', accountsPath().replace(bench.account, bench.manager.accounts[0]!.id), { token })).status).toBe(200);
    const revoked = await backdoor(bench, 'POST', '/_emulator/faults', { revoke_tokens: [token.key] });
    expect(revoked.body.revoked_tokens).toEqual([token.key]);
    expect401(await call(bench, 'GET', '/12/accounts', { token }), 'revoked_token');
    // Other tokens are unaffected.
    expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken })).status).toBe(200);
    const restored = await backdoor(bench, 'POST', '/_emulator/faults', { restore_tokens: [token.key] });
    expect(restored.body.revoked_tokens).toEqual([]);
    expect((await call(bench, 'GET', '/12/accounts', { token })).status).toBe(200);
  });

  it('rejects a request token used on /12/', async () => {
    const rt = new URLSearchParams((await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: 'oob' } })).text);
    const res = await call(bench, 'GET', '/12/accounts', { token: { key: rt.get('oauth_token')!, secret: rt.get('oauth_token_secret')! } });
    expect401(res, 'unknown_token');
  });

  it('logs authentication failures with their reason', async () => {
    const before = Number((await fetch(`${bench.url}/_emulator/requests?since=0&limit=0`)).headers.get('x-emulator-last-seq'));
    await call(bench, 'GET', accountsPath(), { token: bench.adminToken, wrongSecret: true });
    const log = (await backdoor(bench, 'GET', `/_emulator/requests?since=${before}`)).body;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 401, auth_failure: 'bad_signature', route: 'GET account', account_id: bench.account });
  });
});
