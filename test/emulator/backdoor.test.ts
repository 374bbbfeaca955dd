/** The test bench's back door (/_emulator/*): credentials, determinism, inspection, log, stats, config. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.ts';
import { backdoor, type Bench, boot, call, createAudience, getJson, type Json, sha256, usersPath } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

describe('credentials', () => {
  it('lists the app and logins of every permission level, with ready tokens', async () => {
    const { creds } = bench;
    expect(creds.consumer_key).toBe('emulator-consumer-key');
    expect(creds.consumer_secret).toEqual(expect.any(String));
    expect(creds.users.length).toBeGreaterThanOrEqual(3);
    for (const u of creds.users) {
      expect(u).toEqual({
        user_id: expect.stringMatching(/^\d+$/),
        screen_name: expect.any(String),
        access_token: expect.stringMatching(new RegExp(`^${u.user_id}-`)),
        access_token_secret: expect.any(String),
        accounts: expect.any(Array),
      });
    }
    expect(bench.admin.accounts.map((a) => a.permissions)).toEqual([['ACCOUNT_ADMIN'], ['ACCOUNT_ADMIN']]);
    expect(bench.analyst.accounts[0]!.permissions).toEqual(['CAMPAIGN_ANALYST']);
    expect(bench.manager.accounts[0]!.permissions).toEqual(['AD_MANAGER']);
    expect(bench.admin.accounts[0]!.name).toBe('Acme Outdoor');
    expect(bench.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('is the same for the same seed and differs for another seed', async () => {
    const other = await startEmulator({ populationSize: 10, seed: 1 });
    const third = await startEmulator({ populationSize: 10, seed: 2, consumerKey: 'ck', consumerSecret: 'cs' });
    try {
      const same = await getJson(`${other.url}/_emulator/credentials`);
      const differs = await getJson(`${third.url}/_emulator/credentials`);
      expect(same).toEqual(bench.creds);
      expect(differs.users[0].access_token).not.toBe(bench.creds.users[0]!.access_token);
      expect(differs.consumer_key).toBe('ck');
      const pop1 = await getJson(`${other.url}/_emulator/population?limit=10`);
      const pop0 = await getJson(`${bench.url}/_emulator/population?limit=10`);
      const pop2 = await getJson(`${third.url}/_emulator/population?limit=10`);
      expect(pop1).toEqual(pop0);
      expect(pop2[0].idfa).not.toBe(pop0[0].idfa);
    } finally {
      await other.close();
      await third.close();
    }
  });
});

describe('inspection', () => {
  it('lists every audience of an account, deleted ones included, and shows members', async () => {
    const live = await createAudience(bench, 'inspect-live');
    const gone = await createAudience(bench, 'inspect-gone');
    await call(bench, 'POST', usersPath(bench, live), {
      token: bench.adminToken,
      json: [{ operation_type: 'Update', params: { users: [{ email: [sha256('b')] }, { email: [sha256('a')], phone_number: [sha256('1')] }] } }],
    });
    await call(bench, 'DELETE', `/12/accounts/${bench.account}/custom_audiences/${gone}`, { token: bench.adminToken });
    const list = (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences`)).body.data;
    const byId = new Map(list.map((a: { id: string }) => [a.id, a]));
    expect(byId.get(live)).toMatchObject({ name: 'inspect-live', deleted: false, emulator: { processing: true, matched_size: null } });
    expect(byId.get(gone)).toMatchObject({ name: 'inspect-gone', deleted: true });
    const members = (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences/${live}/members`)).body;
    expect(members.email).toEqual([sha256('a'), sha256('b')].sort());
    expect(members.phone_number).toEqual([sha256('1')]);
    expect(Object.keys(members).sort()).toEqual(['device_id', 'email', 'handle', 'partner_user_id', 'phone_number', 'twitter_id']);
    expect((await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences/nope/members`)).status).toBe(404);
    expect((await backdoor(bench, 'GET', `/_emulator/accounts/nope/custom_audiences`)).status).toBe(404);
  });

  it('pages the population and validates its parameters', async () => {
    const res = await fetch(`${bench.url}/_emulator/population?offset=998&limit=5`);
    const users: Json = await res.json();
    expect(users.map((u: { email: string }) => u.email)).toEqual(['user998@population.example', 'user999@population.example']);
    expect(Number(res.headers.get('x-emulator-population-active'))).toBeGreaterThan(700);
    expect((await fetch(`${bench.url}/_emulator/population?limit=10001`)).status).toBe(400);
    expect((await fetch(`${bench.url}/_emulator/population?offset=-1`)).status).toBe(400);
  });
});

describe('request log and stats', () => {
  it('returns calls after a sequence number, oldest first, with a last-seq header', async () => {
    const head = await fetch(`${bench.url}/_emulator/requests?limit=0`);
    const since = Number(head.headers.get('x-emulator-last-seq'));
    expect(await head.json()).toEqual([]);
    await call(bench, 'GET', '/12/accounts', { token: bench.adminToken });
    await call(bench, 'GET', `/12/accounts/${bench.account}`, { token: bench.adminToken });
    const res = await fetch(`${bench.url}/_emulator/requests?since=${since}`);
    const calls: Json = await res.json();
    expect(calls.map((c: { route: string }) => c.route)).toEqual(['GET accounts', 'GET account']);
    expect(calls.map((c: { seq: number }) => c.seq)).toEqual([since + 1, since + 2]);
    expect(Number(res.headers.get('x-emulator-last-seq'))).toBe(since + 2);
    expect(calls[1]).toEqual({
      seq: since + 2,
      at: expect.any(Number),
      method: 'GET',
      path: `/12/accounts/${bench.account}`,
      route: 'GET account',
      status: 200,
      account_id: bench.account,
      audience_id: null,
      operations: null,
      users: null,
      bytes: 0,
      token: bench.adminToken.key,
      rate_limit_reset: expect.any(Number),
      fault: null,
      auth_failure: null,
    });
    // Back-door calls are not X calls.
    expect(await getJson(`${bench.url}/_emulator/requests?since=${since + 2}`)).toEqual([]);
  });

  it('counts requests by route and status, and audiences created per account', async () => {
    await backdoor(bench, 'DELETE', '/_emulator/stats');
    await createAudience(bench, 'stats-1');
    await createAudience(bench, 'stats-2', bench.secondAccount);
    await call(bench, 'GET', `/12/accounts/${bench.foreignAccount}`, { token: bench.adminToken });
    const stats = (await backdoor(bench, 'GET', '/_emulator/stats')).body;
    expect(stats).toMatchObject({
      requests: { 'POST custom_audiences': { '201': 2 }, 'GET account': { '403': 1 } },
      total_429: 0,
      audiences_created: { [bench.account]: 1, [bench.secondAccount]: 1 },
      users_rate_limit: { limit: 1500, window_ms: 60_000 },
      max_requests_in_any_window: {},
    });
  });
});

describe('config', () => {
  it('reads and changes the runtime settings', async () => {
    const before = (await backdoor(bench, 'GET', '/_emulator/config')).body;
    expect(before).toMatchObject({ users_rate_limit: { limit: 1500, window_ms: 60_000 }, sizing_delay_ms: 60_000 });
    expect(before.rate_limits.audience_writes).toEqual({ limit: 450, window_ms: 60_000 });
    const after = (await backdoor(bench, 'POST', '/_emulator/config', { sizing_delay_ms: 1234 })).body;
    expect(after.sizing_delay_ms).toBe(1234);
    expect((await backdoor(bench, 'POST', '/_emulator/config', { sizing_delay_ms: -1 })).status).toBe(400);
    expect((await backdoor(bench, 'POST', '/_emulator/config', { rate_limits: { nope: { limit: 1, window_ms: 1 } } })).status).toBe(400);
    await backdoor(bench, 'POST', '/_emulator/config', { sizing_delay_ms: 60_000 });
  });
});
