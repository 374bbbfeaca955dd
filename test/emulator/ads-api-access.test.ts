/**
 * adsApiAccess (`ads_api_access` of POST /_emulator/config): false plays an app X has not approved
 * for the Ads API. Every authenticated /12/ call answers X's 403 UNAUTHORIZED_CLIENT_APPLICATION,
 * counted by no rate limit; OAuth (request_token) still works, as it does for any X app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

describe('Ads API access', () => {
  it('is granted by default, and refused with X’s 403 once taken away, OAuth still working', async () => {
    expect((await backdoor(bench, 'GET', '/_emulator/config')).body.ads_api_access).toBe(true);
    expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken })).status).toBe(200);
    expect((await backdoor(bench, 'POST', '/_emulator/config', { ads_api_access: false })).body.ads_api_access).toBe(false);
    try {
      const refused = await call(bench, 'GET', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken });
      expect(refused.status).toBe(403);
      expect(refused.body.errors).toEqual([
        { code: 'UNAUTHORIZED_CLIENT_APPLICATION', message: 'The client application making this request does not have access to this API' },
      ]);
      // A bad signature is still X's 401 first: access is the app's, known only once it is authenticated.
      expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken, wrongSecret: true })).status).toBe(401);
      expect((await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: 'oob' } })).status).toBe(200);
    } finally {
      await backdoor(bench, 'POST', '/_emulator/config', { ads_api_access: true });
    }
    expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken })).status).toBe(200);
    expect((await backdoor(bench, 'POST', '/_emulator/config', { ads_api_access: 'no' })).status).toBe(400);
  });

  it('can start without it', async () => {
    const without = await boot({ adsApiAccess: false });
    try {
      expect((await call(without, 'GET', '/12/accounts', { token: without.adminToken })).status).toBe(403);
    } finally {
      await without.x.close();
    }
  });
});
