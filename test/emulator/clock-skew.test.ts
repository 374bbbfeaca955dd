/**
 * clockSkewMs (`clock_skew_ms` of POST /_emulator/config): X's wall clock reads that far from this
 * machine's, as when a client's clock is off. Every answer's Date header says X's time, and OAuth
 * timestamps are judged against it (±300 s): a client on the machine's clock is refused once the
 * skew is past the window, one on X's clock is not.
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

const MINUTE = 60_000;
/** X's Date header minus this machine's clock, within the header's whole second and the call's time. */
async function dateSkew(path: string, signed: boolean): Promise<number> {
  const before = Date.now();
  const res = signed ? await call(bench, 'GET', path, { token: bench.adminToken }) : await fetch(`${bench.url}${path}`, { method: 'HEAD' });
  const after = Date.now();
  const date = Date.parse(res.headers.get('date') ?? '');
  expect(Number.isNaN(date)).toBe(false);
  // Date has whole seconds: X's time was in [date, date + 1 s) while the call ran.
  return date + 500 - (before + after) / 2;
}

describe('clock skew', () => {
  it('answers with the machine’s time by default', async () => {
    expect((await backdoor(bench, 'GET', '/_emulator/config')).body.clock_skew_ms).toBe(0);
    expect(Math.abs(await dateSkew('/', false))).toBeLessThan(2_000);
  });

  it('writes X’s own Date on every answer once skewed, and judges OAuth timestamps by it', async () => {
    expect((await backdoor(bench, 'POST', '/_emulator/config', { clock_skew_ms: -10 * MINUTE })).body.clock_skew_ms).toBe(-10 * MINUTE);
    try {
      expect(await dateSkew('/', false)).toBeCloseTo(-10 * MINUTE, -4); // unknown route, a 404
      expect(await dateSkew('/12/accounts', false)).toBeCloseTo(-10 * MINUTE, -4);
      // Signed on the machine's clock: ten minutes ahead of X's, refused.
      const refused = await call(bench, 'GET', '/12/accounts', { token: bench.adminToken });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('x-emulator-auth-failure')).toBe('stale_timestamp');
      expect(Math.abs(Date.parse(refused.headers.get('date')!) - (Date.now() - 10 * MINUTE))).toBeLessThan(3_000);
      // Signed on X's clock: accepted.
      const onXTime = Math.floor((Date.now() - 10 * MINUTE) / 1000);
      expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken, timestamp: onXTime })).status).toBe(200);
      // request_token too.
      const token = await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: 'oob' } });
      expect(token.headers.get('x-emulator-auth-failure')).toBe('stale_timestamp');

      // Within the window (2 minutes ahead): the Date says so, and signatures still pass.
      await backdoor(bench, 'POST', '/_emulator/config', { clock_skew_ms: 2 * MINUTE });
      expect(await dateSkew('/12/accounts', true)).toBeCloseTo(2 * MINUTE, -4);
    } finally {
      await backdoor(bench, 'POST', '/_emulator/config', { clock_skew_ms: 0 });
    }
    expect((await call(bench, 'GET', '/12/accounts', { token: bench.adminToken })).status).toBe(200);
  });

  it('refuses a skew over a day or not whole milliseconds, at start-up and at run time', async () => {
    for (const bad of [86_400_001, -86_400_001, 1.5, '60000'])
      expect((await backdoor(bench, 'POST', '/_emulator/config', { clock_skew_ms: bad })).status, String(bad)).toBe(400);
    expect((await backdoor(bench, 'GET', '/_emulator/config')).body.clock_skew_ms).toBe(0);
    await expect(boot({ clockSkewMs: 86_400_001 })).rejects.toThrow(RangeError);
    const skewed = await boot({ clockSkewMs: 3 * MINUTE });
    try {
      expect((await backdoor(skewed, 'GET', '/_emulator/config')).body.clock_skew_ms).toBe(3 * MINUTE);
    } finally {
      await skewed.x.close();
    }
  });
});
