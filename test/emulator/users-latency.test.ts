/** usersLatencyMs (`--users-latency-ms`): every users call waits that long, other calls do not; not a fault. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call, createAudience, sha256, usersPath } from './helpers.ts';

let bench: Bench;
// Far above what a loaded machine adds to a local call, so the test tells a delayed call from a slow one.
const LATENCY = 2_000;
beforeAll(async () => {
  bench = await boot({ usersLatencyMs: LATENCY });
});
afterAll(async () => {
  await bench.x.close();
});

const json = (email: string) => [{ operation_type: 'Update', params: { users: [{ email: [sha256(email)] }] } }];

describe('users latency', () => {
  it('delays users calls only, applies them, and counts no fault', async () => {
    const id = await createAudience(bench, 'latency-users');
    let started = Date.now();
    expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(LATENCY);
    started = Date.now();
    expect((await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: json('slow') })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LATENCY);
    const members = (await backdoor(bench, 'GET', `/_emulator/accounts/${bench.account}/custom_audiences/${id}/members`)).body;
    expect(members.email).toEqual([sha256('slow')]);
    expect((await backdoor(bench, 'GET', '/_emulator/stats')).body.faults_injected).toBe(0);
  });

  it('is read and changed through /_emulator/config', async () => {
    expect((await backdoor(bench, 'GET', '/_emulator/config')).body.users_latency_ms).toBe(LATENCY);
    expect((await backdoor(bench, 'POST', '/_emulator/config', { users_latency_ms: 0 })).body.users_latency_ms).toBe(0);
    const id = await createAudience(bench, 'latency-off');
    const started = Date.now();
    expect((await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, json: json('fast') })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(LATENCY);
    expect((await backdoor(bench, 'POST', '/_emulator/config', { users_latency_ms: -1 })).status).toBe(400);
  });

  it('refuses a bad start-up value', async () => {
    await expect(boot({ usersLatencyMs: -5 })).rejects.toThrow(RangeError);
  });
});
