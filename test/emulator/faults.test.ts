/** POST /_emulator/faults: 5xx, latency, dropped connections, scope, hand-deleted audiences, reset. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call, createAudience, sha256, usersPath, type Json } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterEach(async () => {
  await backdoor(bench, 'POST', '/_emulator/faults', { reset: true });
});
afterAll(async () => {
  await bench.x.close();
});

const json = (email: string) => [{ operation_type: 'Update', params: { users: [{ email: [sha256(email)] }] } }];
const accounts = () => call(bench, 'GET', '/12/accounts', { token: bench.adminToken });
const members = async (id: string): Promise<Json> => (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences/${id}/members`)).body;

describe('faults', () => {
  it('reads the default state', async () => {
    expect((await backdoor(bench, 'GET', '/_emulator/faults')).body).toEqual({
      error_rate: 0,
      error_every: null,
      error_status: 503,
      rate_limit_burst: null,
      latency_ms: 0,
      drop_rate: 0,
      drop_when: 'before',
      only: 'all',
      sizing: 'normal',
      revoked_tokens: [],
    });
  });

  it('fails every Nth call with 503 SERVICE_UNAVAILABLE, or 500 INTERNAL_ERROR', async () => {
    await backdoor(bench, 'POST', '/_emulator/faults', { error_every: 3 });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await accounts()).status);
    expect(statuses).toEqual([200, 200, 503, 200, 200, 503]);
    await backdoor(bench, 'POST', '/_emulator/faults', { error_every: 1, error_status: 500 });
    const res = await accounts();
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: [{ code: 'INTERNAL_ERROR', message: 'Internal error' }], request: { params: {} } });
    expect(res.headers.get('x-rate-limit-limit')).not.toBeNull();
    await backdoor(bench, 'POST', '/_emulator/faults', { error_status: 503 });
    expect((await accounts()).body.errors[0].code).toBe('SERVICE_UNAVAILABLE');
  });

  it('fails a seeded fraction of calls with error_rate', async () => {
    await backdoor(bench, 'POST', '/_emulator/faults', { error_rate: 0.5 });
    let failed = 0;
    for (let i = 0; i < 40; i++) if ((await accounts()).status === 503) failed++;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
  });

  it('hits only the users endpoint with only: "users", and applies nothing on a 5xx', async () => {
    const id = await createAudience(bench, 'faults-only');
    await backdoor(bench, 'POST', '/_emulator/faults', { error_rate: 1, only: 'users' });
    expect((await accounts()).status).toBe(200);
    const res = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: json('only') });
    expect(res.status).toBe(503);
    expect((await members(id)).email).toEqual([]);
  });

  it('adds latency', async () => {
    await backdoor(bench, 'POST', '/_emulator/faults', { latency_ms: 300 });
    const started = Date.now();
    expect((await accounts()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops connections before applying, or after', async () => {
    const id = await createAudience(bench, 'faults-drop');
    await backdoor(bench, 'POST', '/_emulator/faults', { drop_rate: 1, drop_when: 'before', only: 'users' });
    await expect(call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: json('before') })).rejects.toThrow();
    expect((await members(id)).email).toEqual([]);

    await backdoor(bench, 'POST', '/_emulator/faults', { drop_when: 'after' });
    await expect(call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: json('after') })).rejects.toThrow();
    expect((await members(id)).email).toEqual([sha256('after')]);

    const log = (await backdoor(bench, 'GET', '/_emulator/requests?since=0')).body.filter((c: { status: number }) => c.status === 0);
    expect(log.map((c: { fault: string }) => c.fault)).toEqual(['drop_before', 'drop_after']);
    expect((await backdoor(bench, 'GET', '/_emulator/stats')).body.dropped).toBe(2);
  });

  it('deletes audiences by hand: 404 on X, deleted: true with_deleted, hashes gone, name still used', async () => {
    const id = await createAudience(bench, 'faults-hand');
    await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: json('hand') });
    const res = await backdoor(bench, 'POST', '/_emulator/faults', { delete_audiences: [{ account_id: bench.account, id }] });
    expect(res.status).toBe(200);
    const path = `/12/accounts/${bench.account}/custom_audiences/${id}`;
    expect((await call(bench, 'GET', path, { token: bench.adminToken })).status).toBe(404);
    expect((await call(bench, 'GET', path, { token: bench.adminToken, query: { with_deleted: 'true' } })).body.data.deleted).toBe(true);
    expect((await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: json('x') })).status).toBe(404);
    expect((await members(id)).email).toEqual([]);
    const again = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken, query: { name: 'faults-hand' } });
    expect(again.status).toBe(400);
  });

  it('rejects an unknown audience in delete_audiences, changing nothing', async () => {
    const res = await backdoor(bench, 'POST', '/_emulator/faults', { error_every: 2, delete_audiences: [{ account_id: bench.account, id: 'nope' }] });
    expect(res.status).toBe(404);
    expect((await backdoor(bench, 'GET', '/_emulator/faults')).body.error_every).toBeNull();
  });

  it('rejects an invalid body', async () => {
    for (const body of [{ error_rate: 2 }, { error_status: 502 }, { surprise: true }, { drop_when: 'during' }]) {
      const res = await backdoor(bench, 'POST', '/_emulator/faults', body);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].code).toBe('INVALID_PARAMETER');
    }
  });

  it('resets everything with reset: true, then applies the rest of the body', async () => {
    await backdoor(bench, 'POST', '/_emulator/faults', { error_rate: 1, latency_ms: 10, revoke_tokens: [bench.adminToken.key], sizing: 'never' });
    const res = await backdoor(bench, 'POST', '/_emulator/faults', { reset: true, error_every: 5 });
    expect(res.body).toMatchObject({ error_rate: 0, latency_ms: 0, error_every: 5, sizing: 'normal', revoked_tokens: [] });
    expect((await accounts()).status).toBe(200);
  });
});
