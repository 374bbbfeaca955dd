import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, sha, waitFor } from './harness.ts';

/**
 * X holds a member 13 months after its last Update (docs/reference/x-ads-api.md 3.2). Two Tailor installations
 * (own databases) write to one emulator account; X's clock is moved forward in steps of 200 days.
 * The one that never renews (the default 330 days is never reached in a test) loses its members on
 * X; the one that renews after 3 s keeps them, because each step waits for a renewal first, and
 * it is killed and restarted on its database half-way.
 */
describe('renewal before X expiry, end to end', () => {
  const DAY = 86_400_000;
  let emu: Emu;
  let lapsing: TailorProcess;
  let renewing: TailorProcess;
  let accountId: string;
  const members = Array.from({ length: 5 }, (_, i) => `member${i}@example.com`);
  const want = JSON.stringify(members.map(sha).sort());
  const RENEW_ENV = { TAILOR_RENEW_AFTER_DAYS: String(3 / 86_400) };

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    [lapsing, renewing] = await Promise.all([TailorProcess.start(emu), TailorProcess.start(emu, { env: RENEW_ENV })]);
  });
  afterAll(async () => {
    await lapsing?.stop();
    await renewing?.stop();
    await emu?.close();
  });

  async function emailAudience(tailor: TailorProcess, id: string): Promise<string> {
    const configId = await tailor.addConfiguration(emu);
    await tailor.client.putAudience(id, { name: id });
    await tailor.client.connect(id, configId, { forward_twitter_handles: false, forward_device_ids: false });
    expect((await tailor.api('POST', `/audiences/${id}/members`, { add: members.map((e) => ({ user_id: e, email: e })) })).status).toBe(202);
    const d = await waitFor(`${id} on X`, async () => {
      const down = (await tailor.downstreams(id)).email;
      if (!down?.x_audience_id || down.pending !== 0) return undefined;
      return JSON.stringify(await onX(down.x_audience_id)) === want ? down : undefined;
    });
    return d.x_audience_id as string;
  }

  const onX = async (xId: string): Promise<string[]> => ((await emu.members(accountId, xId)).email ?? []).slice().sort();

  /** The newest request-log position, then users calls to `xId` answered 200 after it. */
  const lastSeq = async (): Promise<number> => Number((await fetch(`${emu.url}/_emulator/requests?limit=0`)).headers.get('x-emulator-last-seq'));
  async function usersCallsSince(seq: number, xId: string, arrivedAfter: number): Promise<{ users: number }[]> {
    const log = await emu.get<{ route: string; status: number; audience_id: string; at: number; users: number }[] | { data: any[] }>(
      `/_emulator/requests?since=${seq}`,
    );
    const entries = Array.isArray(log) ? log : log.data;
    return entries.filter((e) => e.route === 'POST custom_audience_users' && e.status === 200 && e.audience_id === xId && e.at > arrivedAfter);
  }

  it('members vanish from X 13 months after the last Update without renewal, and stay with it', async () => {
    const lapseX = await emailAudience(lapsing, 'lapse');
    const renewX = await emailAudience(renewing, 'renew');

    for (let step = 1; step <= 3; step += 1) {
      const seq = await lastSeq();
      const advanced = (await emu.post<{ offset_ms: number }>('/_emulator/clock', { advance_ms: 200 * DAY })).offset_ms;
      expect(advanced).toBe(step * 200 * DAY);
      const after = Date.now();
      // The renewing installation re-sends all five on its own, on X's moved clock (arrived after it moved).
      await waitFor(`a renewal after step ${step}`, async () => (await usersCallsSince(seq, renewX, after)).some((c) => c.users === members.length));
      expect(JSON.stringify(await onX(renewX)), `renewed members after ${step * 200} days`).toBe(want);
      // The other one never re-sends: its members stay 13 months from their only Update.
      expect(await usersCallsSince(seq, lapseX, 0)).toEqual([]);
      expect(JSON.stringify(await onX(lapseX))).toBe(step * 200 < 395 ? want : '[]');
      if (step === 1) {
        // Killed and started again on its database: when X last confirmed each hash is kept there.
        await renewing.kill();
        renewing = await TailorProcess.start(emu, { dir: renewing.dir, env: RENEW_ENV });
      }
    }

    // The last renewal is on X; Tailor records it once X's answer is settled, a moment later.
    const status = await waitFor('the renewals recorded', async () => {
      const email = (await renewing.downstreams('renew')).email;
      return email.renewed >= 3 * members.length ? email : undefined;
    });
    expect(status.members).toBe(members.length);
    expect(status.sent_adds).toBe(members.length); // renewals are not counted as adds
    expect((await lapsing.downstreams('lapse')).email.renewed).toBe(0);
    const metrics = await (await fetch(`${renewing.url}/metrics`)).text();
    const renewed = /^tailor_renewed_total\{identity_type="email"\} (\d+)$/m.exec(metrics);
    expect(Number(renewed?.[1])).toBeGreaterThanOrEqual(2 * members.length); // counted since the restart
    // X's rate limits stayed on the wall clock: no 429 for anyone.
    expect((await emu.get<{ total_429: number }>('/_emulator/stats')).total_429).toBe(0);
  });
});
