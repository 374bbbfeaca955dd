/** x-rate-limit-* headers on every answer, 429 TOO_MANY_REQUESTS past the limit, OK after reset. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call, createAudience, sha256, tokenOf, usersPath } from './helpers.ts';
import { waitFor } from '../support/wait.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

const json = [{ operation_type: 'Update', params: { users: [{ email: [sha256('r@x.com')] }] } }];

/** Waits until the wall clock reaches an x-rate-limit-reset value (epoch seconds). */
const untilReset = (resetS: number) => waitFor('rate-limit reset', async () => (Date.now() >= resetS * 1000 ? true : undefined), 5000);

describe('rate limits', () => {
  it('sends the headers on every /12/ answer, errors included', async () => {
    const ok = await call(bench, 'GET', '/12/accounts', { token: bench.adminToken });
    const notFound = await call(bench, 'GET', `/12/accounts/${bench.account}/custom_audiences/zzzzz`, { token: bench.adminToken });
    const users = await call(bench, 'POST', usersPath(bench, await createAudience(bench, 'rl-headers')), { token: bench.adminToken, json });
    for (const res of [ok, notFound, users]) {
      expect(Number(res.headers.get('x-rate-limit-limit'))).toBeGreaterThan(0);
      expect(Number(res.headers.get('x-rate-limit-remaining'))).toBeGreaterThanOrEqual(0);
      const reset = Number(res.headers.get('x-rate-limit-reset'));
      expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      expect(reset).toBeLessThan(Date.now() / 1000 + 16 * 60);
    }
    expect(users.headers.get('x-rate-limit-limit')).toBe('1500');
    const reset = Number(users.headers.get('x-rate-limit-reset'));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 58);
  });

  it('answers 429 past the users limit, per token, and accepts again after the reset', async () => {
    const config = await backdoor(bench, 'POST', '/_emulator/config', { users_rate_limit: { limit: 3, window_ms: 1000 } });
    expect(config.body.users_rate_limit).toEqual({ limit: 3, window_ms: 1000 });
    await backdoor(bench, 'DELETE', '/_emulator/stats');
    const id = await createAudience(bench, 'rl-users');
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json });
      expect(res.status).toBe(200);
      remaining.push(res.headers.get('x-rate-limit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      errors: [{ code: 'TOO_MANY_REQUESTS', message: 'Rate limit exceeded' }],
      request: { params: { account_id: bench.account, custom_audience_id: id } },
    });
    expect(limited.headers.get('x-rate-limit-limit')).toBe('3');
    expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
    const reset = Number(limited.headers.get('x-rate-limit-reset'));

    // Other families and other tokens are unaffected.
    expect((await call(bench, 'GET', `/12/accounts/${bench.account}/custom_audiences/${id}`, { token: bench.adminToken })).status).toBe(200);
    const manager = bench.manager.accounts[0]!.id;
    expect(manager).toBe(bench.account);
    expect((await call(bench, 'POST', usersPath(bench, id), { token: tokenOf(bench.manager), json })).status).toBe(200);

    await untilReset(reset);
    const again = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-rate-limit-remaining')).toBe('2');

    const stats = (await backdoor(bench, 'GET', '/_emulator/stats')).body;
    expect(stats.users_rate_limit).toEqual({ limit: 3, window_ms: 1000 });
    expect(stats.max_requests_in_any_window[bench.adminToken.key]).toBe(4);
    expect(stats.max_requests_in_any_window[bench.manager.access_token]).toBe(1);
    expect(stats.total_429).toBe(1);
    expect(stats.requests['POST custom_audience_users']).toEqual({ '200': 5, '429': 1 });

    const log = (await backdoor(bench, 'GET', '/_emulator/requests?since=0')).body.filter((c: { route: string }) => c.route === 'POST custom_audience_users');
    const limitedCall = log.find((c: { status: number }) => c.status === 429);
    expect(limitedCall.rate_limit_reset).toBe(reset);
    // The retry came at or after the reset second.
    expect(log[log.length - 1].at).toBeGreaterThanOrEqual(reset * 1000);
    await backdoor(bench, 'POST', '/_emulator/config', { users_rate_limit: { limit: 1500, window_ms: 60_000 } });
  });

  it('limits other families as configured', async () => {
    await backdoor(bench, 'POST', '/_emulator/config', { rate_limits: { global_reads: { limit: 1, window_ms: 60_000 } } });
    expect((await call(bench, 'GET', '/12/accounts', { token: tokenOf(bench.analyst) })).status).toBe(200);
    const limited = await call(bench, 'GET', '/12/accounts', { token: tokenOf(bench.analyst) });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-rate-limit-limit')).toBe('1');
    await backdoor(bench, 'POST', '/_emulator/config', { rate_limits: { global_reads: { limit: 1000, window_ms: 900_000 } } });
    expect((await call(bench, 'GET', '/12/accounts', { token: tokenOf(bench.analyst) })).status).toBe(200);
  });

  it('answers a burst of injected 429s, each with its own reset', async () => {
    const id = await createAudience(bench, 'rl-burst');
    const set = await backdoor(bench, 'POST', '/_emulator/faults', { rate_limit_burst: { count: 2, reset_after_s: 1 } });
    expect(set.body.rate_limit_burst).toEqual({ count: 2, reset_after_s: 1 });
    const first = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json });
    expect(first.status).toBe(429);
    expect(first.body.errors[0].code).toBe('TOO_MANY_REQUESTS');
    const reset = Number(first.headers.get('x-rate-limit-reset'));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1);
    expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken })).status).toBe(429);
    expect((await backdoor(bench, 'GET', '/_emulator/faults')).body.rate_limit_burst).toEqual({ count: 0, reset_after_s: 1 });
    expect((await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json })).status).toBe(200);
  });
});
