/**
 * audience_size, targetable and reasons_not_targetable against the synthetic population
 * (docs/reference/x-ads-api.md 4, 6): PROCESSING until a sizing run, TOO_SMALL below 100, targetable from 100.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call, createAudience, sha256, usersPath, type Json } from './helpers.ts';
import { waitFor } from '../support/wait.ts';

interface PopUser {
  email: string;
  handle: string;
  idfa: string;
  gaid: string;
  phone: string;
  active: boolean;
}

let bench: Bench;
let population: PopUser[];
let active: PopUser[];
let inactive: PopUser[];

beforeAll(async () => {
  bench = await boot();
  const res = await fetch(`${bench.url}/_emulator/population?offset=0&limit=1000`);
  expect(res.headers.get('x-emulator-population-size')).toBe('1000');
  population = (await res.json()) as PopUser[];
  active = population.filter((u) => u.active);
  inactive = population.filter((u) => !u.active);
});
afterAll(async () => {
  await bench.x.close();
});

const get = async (id: string): Promise<Json> =>
  (await call(bench, 'GET', `/12/accounts/${bench.account}/custom_audiences/${id}`, { token: bench.adminToken })).body.data;
const add = async (id: string, users: unknown[]) => {
  const res = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: [{ operation_type: 'Update', params: { users } }] });
  expect(res.status).toBe(200);
};
const size = () => backdoor(bench, 'POST', '/_emulator/sizing');

describe('population', () => {
  it('is deterministic raw identities with about 80% active', () => {
    expect(population).toHaveLength(1000);
    expect(population[7]).toMatchObject({ email: 'user7@population.example', handle: 'popuser7' });
    expect(population[7]!.phone).toBe('+12022000007');
    expect(population[7]!.idfa).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(active.length / population.length).toBeGreaterThan(0.72);
    expect(active.length / population.length).toBeLessThan(0.88);
  });
});

describe('sizing', () => {
  it('hides sizes below 100 as TOO_SMALL and shows 100 or more as targetable', async () => {
    const id = await createAudience(bench, 'sizing-threshold');
    expect(await get(id)).toMatchObject({ audience_size: null, targetable: false, reasons_not_targetable: ['PROCESSING', 'TOO_SMALL'] });

    // 99 active users, each sent by email AND handle (one person counts once), plus inactive ones.
    const first = active.slice(0, 99);
    await add(
      id,
      first.map((u) => ({ email: [sha256(u.email)], handle: [sha256(u.handle)] })),
    );
    await add(
      id,
      inactive.slice(0, 20).map((u) => ({ email: [sha256(u.email)] })),
    );
    expect(await get(id)).toMatchObject({ audience_size: null, reasons_not_targetable: ['PROCESSING', 'TOO_SMALL'] });
    expect((await size()).body).toMatchObject({ sized: expect.any(Number) });
    expect(await get(id)).toMatchObject({ audience_size: null, targetable: false, reasons_not_targetable: ['TOO_SMALL'] });
    const inspect = (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences`)).body.data.find((a: { id: string }) => a.id === id);
    expect(inspect.emulator).toMatchObject({ processing: false, matched_size: 99, members: { email: 119, handle: 99 } });

    // The 100th, by device id: IDFA lower-case with dashes.
    const hundredth = active[99]!;
    await add(id, [{ device_id: [sha256(hundredth.idfa.toLowerCase())] }]);
    // Still TOO_SMALL as far as X knows: the last run found 99.
    expect(await get(id)).toMatchObject({ audience_size: null, targetable: false, reasons_not_targetable: ['PROCESSING', 'TOO_SMALL'] });
    await size();
    expect(await get(id)).toMatchObject({ audience_size: 100, targetable: true, reasons_not_targetable: [] });

    // GAIDs match too; removing users shrinks the size below the minimum again.
    await add(
      id,
      active.slice(100, 150).map((u) => ({ device_id: [sha256(u.gaid)] })),
    );
    // A big-enough audience being re-processed is PROCESSING only.
    expect(await get(id)).toMatchObject({ audience_size: null, targetable: false, reasons_not_targetable: ['PROCESSING'] });
    await size();
    expect((await get(id)).audience_size).toBe(150);
    const res = await call(bench, 'POST', usersPath(bench, id), {
      token: bench.adminToken,
      json: [{ operation_type: 'Delete', params: { users: active.slice(0, 99).map((u) => ({ email: [sha256(u.email)], handle: [sha256(u.handle)] })) } }],
    });
    expect(res.status).toBe(200);
    await size();
    expect(await get(id)).toMatchObject({ audience_size: null, targetable: false, reasons_not_targetable: ['TOO_SMALL'] });
  });

  it('matches phone numbers by the SHA-256 of E.164 with its +, and counts a person once across keys', async () => {
    const id = await createAudience(bench, 'sizing-phone');
    // 100 active users by phone; the first 50 also by email: still 100 people.
    await add(
      id,
      active.slice(0, 100).map((u, i) => (i < 50 ? { phone_number: [sha256(u.phone)], email: [sha256(u.email)] } : { phone_number: [sha256(u.phone)] })),
    );
    // The same numbers without the `+`, and inactive users' numbers, match nobody.
    await add(
      id,
      active.slice(100, 130).map((u) => ({ phone_number: [sha256(u.phone.slice(1))] })),
    );
    await add(
      id,
      inactive.slice(0, 10).map((u) => ({ phone_number: [sha256(u.phone)] })),
    );
    await size();
    expect(await get(id)).toMatchObject({ audience_size: 100, targetable: true, reasons_not_targetable: [] });
    const inspect = (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences`)).body.data.find((a: { id: string }) => a.id === id);
    expect(inspect.emulator).toMatchObject({ matched_size: 100, members: { phone_number: 140, email: 50 } });
    // Phone numbers are 64-hex digests like every hashed key: a raw number is refused, nothing applied.
    const raw = await call(bench, 'POST', usersPath(bench, id), {
      token: bench.adminToken,
      json: [{ operation_type: 'Update', params: { users: [{ phone_number: [active[200]!.phone] }] } }],
    });
    expect(raw.status).toBe(400);
    expect(raw.body.operation_errors[0][0]).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'params.users[0].phone_number[0]' });
  });

  it('ignores hashes that match nobody and upper-case identities hashed without normalizing', async () => {
    const id = await createAudience(bench, 'sizing-nomatch');
    await add(
      id,
      active.slice(0, 150).map((u) => ({ email: [sha256(u.email.toUpperCase())] })),
    );
    await size();
    const inspect = (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences`)).body.data.find((a: { id: string }) => a.id === id);
    expect(inspect.emulator.matched_size).toBe(0);
  });

  it('sizes by itself after the sizing delay', async () => {
    await backdoor(bench, 'POST', '/_emulator/config', { sizing_delay_ms: 150 });
    try {
      const id = await createAudience(bench, 'sizing-auto');
      await add(
        id,
        active.slice(0, 120).map((u) => ({ email: [sha256(u.email)] })),
      );
      expect((await get(id)).reasons_not_targetable).toContain('PROCESSING');
      const sized = await waitFor(
        'sizing',
        async (): Promise<Json> => {
          const a = await get(id);
          return a.reasons_not_targetable.includes('PROCESSING') ? undefined : a;
        },
        3000,
      );
      expect(sized).toMatchObject({ audience_size: 120, targetable: true });
    } finally {
      await backdoor(bench, 'POST', '/_emulator/config', { sizing_delay_ms: 60_000 });
    }
  });

  it('never sizes while the sizing fault says never', async () => {
    const id = await createAudience(bench, 'sizing-never');
    await add(
      id,
      active.slice(0, 120).map((u) => ({ email: [sha256(u.email)] })),
    );
    expect((await backdoor(bench, 'POST', '/_emulator/faults', { sizing: 'never' })).body.sizing).toBe('never');
    try {
      expect((await size()).body).toEqual({ sized: 0, sizing: 'never' });
      expect((await get(id)).reasons_not_targetable).toEqual(['PROCESSING', 'TOO_SMALL']);
    } finally {
      await backdoor(bench, 'POST', '/_emulator/faults', { sizing: 'normal' });
    }
    await size();
    expect((await get(id)).audience_size).toBe(120);
  });

  it('counts members only inside their window, refreshing the size when a window opens', async () => {
    const id = await createAudience(bench, 'sizing-window');
    const soon = new Date(Date.now() + 300).toISOString();
    await add(
      id,
      active.slice(0, 100).map((u) => ({ email: [sha256(u.email)] })),
    );
    const res = await call(bench, 'POST', usersPath(bench, id), {
      token: bench.adminToken,
      json: [{ operation_type: 'Update', params: { effective_at: soon, users: active.slice(100, 130).map((u) => ({ email: [sha256(u.email)] })) } }],
    });
    expect(res.status).toBe(200);
    await size();
    expect((await get(id)).audience_size).toBe(100);
    const later = await waitFor(
      'window to open',
      async (): Promise<Json> => {
        const a = await get(id);
        return a.audience_size === 130 ? a : undefined;
      },
      3000,
    );
    expect(later.reasons_not_targetable).toEqual([]);
  });

  it('shows size fields on the list too', async () => {
    const res = await call(bench, 'GET', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken, query: { q: 'sizing-auto' } });
    expect(res.body.data[0]).toMatchObject({ name: 'sizing-auto', audience_size: 120, targetable: true });
  });
});
