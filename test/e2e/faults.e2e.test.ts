import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, sha, waitFor } from './harness.ts';

/** docs/reference/product.md "Delivery to X": each error decides its own fate, and nothing is lost. */
describe('delivery under X errors, end to end', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let configId: string;
  let accountId: string;

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    tailor = await TailorProcess.start(emu);
    configId = await tailor.addConfiguration(emu);
  });
  afterEach(async () => {
    await emu.faults({ reset: true });
  });
  afterAll(async () => {
    await tailor?.stop();
    await emu?.close();
  });

  const emails = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);

  async function emailAudience(id: string, members: string[]): Promise<void> {
    await tailor.client.putAudience(id, { name: id });
    await tailor.client.connect(id, configId, { forward_twitter_handles: false, forward_device_ids: false });
    await add(id, members);
  }

  async function add(id: string, members: string[]): Promise<void> {
    const res = await tailor.api('POST', `/audiences/${id}/members`, { add: members.map((e) => ({ user_id: e, email: e })) });
    expect(res.status).toBe(202);
  }

  async function settled(id: string, members: string[]): Promise<any> {
    const want = JSON.stringify(members.map(sha).sort());
    return waitFor(`${id} to hold exactly ${members.length} hashes`, async () => {
      const d = (await tailor.downstreams(id)).email;
      if (!d?.x_audience_id || d.pending !== 0) return false;
      const got = ((await emu.members(accountId, d.x_audience_id)).email ?? []).slice().sort();
      return JSON.stringify(got) === want ? d : false;
    });
  }

  async function lastSeq(): Promise<number> {
    const res = await fetch(`${emu.url}/_emulator/requests?limit=0`);
    return Number(res.headers.get('x-emulator-last-seq'));
  }

  it('429: waits for the reset before calling X again', async () => {
    await emailAudience('rl', ['seed@example.com']);
    await settled('rl', ['seed@example.com']);
    const since = await lastSeq();
    await emu.faults({ rate_limit_burst: { count: 1, reset_after_s: 2 }, only: 'users' });
    const members = ['seed@example.com', ...emails('rl', 20)];
    await add('rl', members.slice(1));
    await settled('rl', members);
    const calls = (await emu.get<any[]>(`/_emulator/requests?since=${since}`)).filter((c) => c.route.includes('users'));
    const limited = calls.find((c) => c.status === 429);
    expect(limited, 'the emulator answered one 429').toBeDefined();
    const later = calls.filter((c) => c.seq > limited.seq);
    expect(later.length).toBeGreaterThan(0);
    for (const c of later) expect(c.at).toBeGreaterThanOrEqual(limited.rate_limit_reset * 1000);
    expect((await tailor.downstreams('rl')).email.last_error).toMatch(/rate limit/i);
  });

  it('5xx: retried with backoff until delivered', async () => {
    // Every second users call fails: deterministic, and each batch meets at least one failure.
    await emu.faults({ error_every: 2, only: 'users' });
    const members = emails('flaky', 40);
    await emailAudience('flaky', members.slice(0, 20));
    await settled('flaky', members.slice(0, 20));
    await add('flaky', members.slice(20, 30));
    await settled('flaky', members.slice(0, 30));
    await add('flaky', members.slice(30));
    const d = await settled('flaky', members);
    expect(d.recent_errors.map((e: any) => e.message).join(' ')).toMatch(/503|unavailable/i);
  });

  it('token revoked: pauses with every change kept, then resumes once re-authorized', async () => {
    const { user } = emu.admin();
    await emailAudience('auth', ['before@example.com']);
    await settled('auth', ['before@example.com']);
    await emu.faults({ revoke_tokens: [user.access_token] });
    await add('auth', emails('paused', 5));
    await waitFor('the configuration to need re-authorization', async () => {
      const d = (await tailor.downstreams('auth')).email;
      return d.state === 'paused' && d.pending === 5;
    });
    const config = (await tailor.api('GET', '/configurations')).body.data.find((c: any) => c.id === configId);
    expect(config.state).toBe('needs_reauth');
    expect(config.state_reason).toMatch(/UNAUTHORIZED_ACCESS|not properly authenticated|token/i);
    expect(((await emu.members(accountId, (await tailor.downstreams('auth')).email.x_audience_id)).email ?? []).length).toBe(1);

    await emu.faults({ restore_tokens: [user.access_token] });
    const again = await tailor.api('POST', '/configurations', {
      account_id: accountId,
      access_token: user.access_token,
      access_token_secret: user.access_token_secret,
    });
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('active');
    await settled('auth', ['before@example.com', ...emails('paused', 5)]);
  });

  it('audience deleted on X by hand: re-created and refilled from the ledger', async () => {
    const members = emails('gone', 12);
    await emailAudience('gone', members);
    const before = await settled('gone', members);
    const seq = Number((await fetch(`${emu.url}/_emulator/requests?limit=0`)).headers.get('x-emulator-last-seq'));
    await emu.faults({ delete_audiences: [{ account_id: accountId, id: before.x_audience_id }] });
    await add('gone', ['after@example.com']);
    const after = await settled('gone', [...members, 'after@example.com']);
    expect(after.x_audience_id).not.toBe(before.x_audience_id);
    expect(after.name).toBe('gone (email) [2]'); // X keeps the deleted audience's name
    expect(after.state).toBe('active');
    expect(after.recent_errors.map((e: any) => e.message).join(' ')).toMatch(/deleted outside Tailor/);
    // X never gives the deleted audience's name out again: the re-creation goes straight to [2],
    // with no refused create and no list call to look for an audience of its own under the old name.
    const log = await emu.get<{ route: string; status: number; path: string }[]>(`/_emulator/requests?since=${seq}`);
    const calls = (Array.isArray(log) ? log : (log as { data: any[] }).data).filter(
      (e) => e.route === 'POST custom_audiences' || e.route === 'GET custom_audiences',
    );
    expect(calls.map((e) => `${e.route} ${e.status}`)).toEqual(['POST custom_audiences 201']);
  });
});

describe("X's request rate, end to end", () => {
  it('never exceeds the configured rate, which stays under X’s limit', async () => {
    // X's window scaled down to 6 s with 10 calls; Tailor at 90 per minute (9 per 6 s, burst 1).
    const emu = await Emu.start({ usersRateLimit: { limit: 10, windowMs: 6_000 } });
    const tailor = await TailorProcess.start(emu, { env: { TAILOR_X_REQUESTS_PER_MINUTE: '90', TAILOR_FLUSH_INTERVAL_MS: '50' } });
    try {
      const configId = await tailor.addConfiguration(emu);
      const ids = Array.from({ length: 8 }, (_, i) => `rate${i}`);
      for (const id of ids) {
        await tailor.client.putAudience(id, { name: id });
        await tailor.client.connect(id, configId, { forward_twitter_handles: false, forward_device_ids: false });
      }
      // Four rounds of changes to eight audiences: at least 32 users calls wanting to go at once.
      for (let round = 0; round < 4; round += 1) {
        for (const id of ids) await tailor.client.changeMembers(id, { add: [{ user_id: `u${round}`, email: `${id}-${round}@example.com` }] });
        await waitFor(
          `round ${round} sent`,
          async () => {
            for (const id of ids) if ((await tailor.downstreams(id)).email?.pending !== 0) return false;
            return true;
          },
          60_000,
        );
      }
      const stats = await emu.get<any>('/_emulator/stats');
      expect(stats.requests['POST custom_audience_users']['200']).toBeGreaterThanOrEqual(32);
      expect(stats.total_429).toBe(0);
      for (const n of Object.values<number>(stats.max_requests_in_any_window)) expect(n).toBeLessThanOrEqual(10);
    } finally {
      await tailor.stop();
      await emu.close();
    }
  }, 120_000);
});
