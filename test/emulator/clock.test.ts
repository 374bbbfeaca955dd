/**
 * X's time moved forward through the back door (POST /_emulator/clock): memberships expire as X
 * documents (expires_at, 13 months after the Update by default; docs/reference/x-ads-api.md 3.2), sizing follows,
 * and what a client compares with its own clock (OAuth timestamps, rate-limit windows and resets)
 * stays on the wall clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call, createAudience, sha256, usersPath, type Json } from './helpers.ts';

const DAY = 86_400_000;

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

const h = (s: string) => sha256(s);
const update = (id: string, emails: string[], params: Record<string, unknown> = {}) =>
  call(bench, 'POST', usersPath(bench, id), {
    token: bench.adminToken,
    json: [{ operation_type: 'Update', params: { ...params, users: emails.map((e) => ({ email: [e] })) } }],
  });
const members = async (id: string): Promise<string[]> =>
  (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences/${id}/members`)).body.email;
const advance = async (ms: number): Promise<Json> => {
  const res = await backdoor(bench, 'POST', '/_emulator/clock', { advance_ms: ms });
  expect(res.status).toBe(200);
  return res.body;
};

describe('the clock', () => {
  it('moves only forward and says where it stands', async () => {
    const before = (await backdoor(bench, 'GET', '/_emulator/clock')).body;
    const after = await advance(DAY);
    expect(after.offset_ms).toBe(before.offset_ms + DAY);
    expect(Date.parse(after.now) - Date.now()).toBeGreaterThan(after.offset_ms - 60_000);
    for (const bad of [{ advance_ms: -1 }, { advance_ms: 1.5 }, {}, { advance_ms: 1, extra: true }]) {
      const res = await backdoor(bench, 'POST', '/_emulator/clock', bad);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].code).toBe('INVALID_PARAMETER');
    }
    expect((await backdoor(bench, 'GET', '/_emulator/clock')).body.offset_ms).toBe(after.offset_ms);
  });
});

describe('expiry on a moved clock', () => {
  it('drops a member 13 months after an Update without expires_at, and a new Update holds it 13 months more', async () => {
    const id = await createAudience(bench, 'clock-default');
    expect((await update(id, [h('stays'), h('lapses')])).status).toBe(200);
    await advance(200 * DAY);
    expect(await members(id)).toEqual([h('lapses'), h('stays')].sort());
    expect((await update(id, [h('stays')])).status).toBe(200); // a renewal
    await advance(190 * DAY); // 390 days after the first Update: under 13 months
    expect(await members(id)).toEqual([h('lapses'), h('stays')].sort());
    await advance(10 * DAY); // 400 days: past 13 months, whatever the months
    expect(await members(id)).toEqual([h('stays')]);
    await advance(200 * DAY); // 400 days after the renewal
    expect(await members(id)).toEqual([]);
  });

  it('honours an explicit expires_at against X time', async () => {
    const id = await createAudience(bench, 'clock-explicit');
    const xNow = Date.parse((await backdoor(bench, 'GET', '/_emulator/clock')).body.now);
    expect((await update(id, [h('week')], { expires_at: new Date(xNow + 7 * DAY).toISOString() })).status).toBe(200);
    await advance(6 * DAY);
    expect(await members(id)).toEqual([h('week')]);
    await advance(2 * DAY);
    expect(await members(id)).toEqual([]);
  });

  it('sizes the audience again once its members expired', async () => {
    const population = (await (await fetch(`${bench.url}/_emulator/population?offset=0&limit=1000`)).json()) as { email: string; active: boolean }[];
    const id = await createAudience(bench, 'clock-sizing');
    expect(
      (
        await update(
          id,
          population.map((u) => sha256(u.email)),
        )
      ).status,
    ).toBe(200);
    await backdoor(bench, 'POST', '/_emulator/sizing');
    const get = async (): Promise<Json> =>
      (await call(bench, 'GET', `/12/accounts/${bench.account}/custom_audiences/${id}`, { token: bench.adminToken })).body.data;
    const sized = await get();
    expect(sized.audience_size).toBe(population.filter((u) => u.active).length);
    expect(sized.targetable).toBe(true);
    await advance(400 * DAY);
    // No sizing run was asked for: the expiry itself is a boundary the next read sizes at.
    const expired = await get();
    expect([expired.audience_size, expired.targetable, expired.reasons_not_targetable]).toEqual([null, false, ['TOO_SMALL']]);
  });
});

describe('what stays on the wall clock', () => {
  it('signatures are still accepted and rate-limit resets are wall-clock seconds after a year on X', async () => {
    await backdoor(bench, 'POST', '/_emulator/config', { users_rate_limit: { limit: 2, window_ms: 60_000 } });
    try {
      const id = await createAudience(bench, 'clock-rate');
      await advance(366 * DAY);
      expect((await update(id, [h('r1')])).status).toBe(200); // signed with the wall clock's timestamp
      expect((await update(id, [h('r2')])).status).toBe(200);
      const limited = await update(id, [h('r3')]);
      expect(limited.status).toBe(429);
      const resetS = Number(limited.headers.get('x-rate-limit-reset'));
      expect(resetS * 1000 - Date.now()).toBeLessThanOrEqual(61_000); // not a year from now
      expect(resetS * 1000 - Date.now()).toBeGreaterThan(-1_000);
      // The new members are held from X's time: 13 months from the moved clock.
      expect(await members(id)).toEqual([h('r1'), h('r2')].sort());
      await advance(390 * DAY);
      expect(await members(id)).toEqual([h('r1'), h('r2')].sort());
    } finally {
      await backdoor(bench, 'POST', '/_emulator/config', { users_rate_limit: { limit: 1500, window_ms: 60_000 } });
    }
  });
});
