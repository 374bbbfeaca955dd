/** GET /12/accounts, /12/accounts/:id and authenticated_user_access; 403 for accounts out of reach. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bench, boot, call, tokenOf } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

describe('accounts', () => {
  it('lists the accounts the token user can reach', async () => {
    const res = await call(bench, 'GET', '/12/accounts', { token: bench.adminToken });
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.request).toEqual({ params: {} });
    expect(res.body.data.map((a: { id: string }) => a.id)).toEqual([bench.account, bench.secondAccount]);
    expect(res.body.data[0]).toMatchObject({
      id: bench.account,
      name: bench.admin.accounts[0]!.name,
      approval_status: 'ACCEPTED',
      deleted: false,
      timezone: expect.any(String),
      business_id: expect.any(String),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
  });

  it('pages and filters the accounts list', async () => {
    const first = await call(bench, 'GET', '/12/accounts', { token: bench.adminToken, query: { count: '1' } });
    expect(first.body.data).toHaveLength(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call(bench, 'GET', '/12/accounts', { token: bench.adminToken, query: { count: '1', cursor: first.body.next_cursor } });
    expect(second.body.data.map((a: { id: string }) => a.id)).toEqual([bench.secondAccount]);
    expect(second.body.next_cursor).toBeNull();
    const q = await call(bench, 'GET', '/12/accounts', { token: bench.adminToken, query: { q: bench.admin.accounts[1]!.name.toUpperCase() } });
    expect(q.body.data.map((a: { id: string }) => a.id)).toEqual([bench.secondAccount]);
  });

  it('answers one account and 403 ACCOUNT_NOT_FOUND for one out of reach', async () => {
    const ok = await call(bench, 'GET', `/12/accounts/${bench.account}`, { token: bench.adminToken });
    expect(ok.status).toBe(200);
    expect(ok.body.data.id).toBe(bench.account);
    expect(ok.body.request.params).toEqual({ account_id: bench.account });
    for (const id of [bench.foreignAccount, 'doesnotexist']) {
      const res = await call(bench, 'GET', `/12/accounts/${id}`, { token: bench.adminToken });
      expect(res.status).toBe(403);
      expect(res.body.errors[0].code).toBe('ACCOUNT_NOT_FOUND');
      expect(res.body.request).toEqual({ params: { account_id: id } });
    }
  });

  it('reports each login’s permissions through authenticated_user_access', async () => {
    for (const login of [bench.admin, bench.analyst, bench.manager]) {
      const account = login.accounts[0]!;
      const res = await call(bench, 'GET', `/12/accounts/${account.id}/authenticated_user_access`, { token: tokenOf(login) });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: { user_id: login.user_id, permissions: account.permissions },
        request: { params: { account_id: account.id } },
      });
    }
    expect(bench.analyst.accounts[0]!.permissions).toEqual(['CAMPAIGN_ANALYST']);
    expect(bench.manager.accounts[0]!.permissions).toEqual(['AD_MANAGER']);
    const denied = await call(bench, 'GET', `/12/accounts/${bench.foreignAccount}/authenticated_user_access`, { token: bench.adminToken });
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0].code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('answers 404 ROUTE_NOT_FOUND for unknown routes', async () => {
    const res = await call(bench, 'GET', '/12/campaigns', { token: bench.adminToken });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ code: 'ROUTE_NOT_FOUND', message: expect.any(String) }], request: { params: {} } });
    expect(res.headers.get('x-current-api-version')).toBe('12');
    const patch = await call(bench, 'PATCH', `/12/accounts/${bench.account}`, { token: bench.adminToken });
    expect(patch.status).toBe(404);
  });
});
