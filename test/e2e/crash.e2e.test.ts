import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, sha, waitFor } from './harness.ts';

/**
 * Durability: changes acknowledged with 202 survive SIGKILL at any moment, and X ends exactly
 * right, with no downstream audience created twice. Also: no raw identifier reaches the disk.
 */
describe('crash safety', () => {
  let emu: Emu | undefined;
  let tailor: TailorProcess | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await tailor?.kill();
    await emu?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILLs while sending lose nothing and duplicate nothing', async () => {
    emu = await Emu.start();
    const accountId = emu.admin().accountId;
    // Slow answers from X keep batches in flight, so the kills land mid-call as well.
    await emu.faults({ latency_ms: 150, only: 'users' });
    tailor = await TailorProcess.start(emu, { env: { TAILOR_FLUSH_INTERVAL_MS: '100' } });
    dir = tailor.dir;
    const configId = await tailor.addConfiguration(emu);
    await tailor.api('PUT', '/audiences/crash', { name: 'Crash Test' });
    await tailor.api('PUT', `/audiences/crash/connections/${configId}`, {});

    // The model: what each member holds after every acknowledged request.
    const model = new Map<string, { email: string; handle: string; idfa: string }>();
    const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
    let rand = 42;
    const random = (): number => ((rand = (rand * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const KILLS = 10;
    const CHUNKS_PER_LIFE = 3;
    const CHUNK = 200;
    let next = 0;
    for (let life = 0; life <= KILLS; life += 1) {
      for (let c = 0; c < CHUNKS_PER_LIFE; c += 1) {
        const add = [];
        const remove = [];
        for (let i = 0; i < CHUNK; i += 1) {
          const r = random();
          const existing = [...model.keys()];
          if (r < 0.15 && existing.length > 0) {
            remove.push({ user_id: existing[Math.floor(random() * existing.length)]! });
          } else if (r < 0.3 && existing.length > 0) {
            // An identity change: same member, a new e-mail.
            const id = existing[Math.floor(random() * existing.length)]!;
            add.push({ user_id: id, email: `changed${next}@example.com`, twitter_handle: `handle_${id}_x`, ios_advertising_id: uuid(Number(id.slice(1))) });
            next += 1;
          } else {
            const id = `m${next}`;
            add.push({ user_id: id, email: `crash${next}@example.com`, twitter_handle: `handle_${id}_x`, ios_advertising_id: uuid(next) });
            next += 1;
          }
        }
        const res = await tailor.api('POST', '/audiences/crash/members', { add, remove });
        expect(res.status).toBe(202);
        for (const m of add) model.set(m.user_id, { email: m.email, handle: m.twitter_handle, idfa: m.ios_advertising_id });
        for (const m of remove) model.delete(m.user_id);
      }
      if (life === KILLS) break;
      await new Promise((r) => setTimeout(r, 50 + random() * 400)); // a random moment of sending
      await tailor.kill('SIGKILL');
      tailor = await TailorProcess.start(emu, { dir, env: tailor.env });
    }

    const expected = {
      email: [...new Set([...model.values()].map((m) => sha(m.email)))].sort(),
      handle: [...new Set([...model.values()].map((m) => sha(m.handle.toLowerCase())))].sort(),
      device_id: [...new Set([...model.values()].map((m) => sha(m.idfa)))].sort(),
    };
    const t = tailor;
    const diagnose = async (): Promise<string> => {
      const downs = await t.downstreams('crash');
      const parts = [];
      for (const type of ['email', 'handle', 'device_id'] as const) {
        const d = downs[type];
        const got = d?.x_audience_id ? ((await emu!.members(accountId, d.x_audience_id))[type] ?? []) : [];
        const want = new Set(expected[type]);
        parts.push(`${type}: state=${d?.state} pending=${d?.pending} x=${got.length} want=${want.size} missing=${[...want].filter((h) => !got.includes(h)).length} extra=${got.filter((h) => !want.has(h)).length} err=${d?.last_error}`);
      }
      return parts.join('\n');
    };
    await waitFor(
      'X to hold exactly the acknowledged members',
      async () => {
        const downs = await t.downstreams('crash');
        for (const type of ['email', 'handle', 'device_id'] as const) {
          const d = downs[type];
          if (!d?.x_audience_id || d.pending !== 0) return false;
          const got = ((await emu!.members(accountId, d.x_audience_id))[type] ?? []).slice().sort();
          if (JSON.stringify(got) !== JSON.stringify(expected[type])) return false;
        }
        return true;
      },
      90_000,
      250,
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${await diagnose()}`);
    });
    const live = (await emu.audiences(accountId)).filter((a) => !a.deleted && a.name.startsWith('Crash Test'));
    expect(live.map((a) => a.name).sort()).toEqual(['Crash Test (device id)', 'Crash Test (email)', 'Crash Test (handle)']);

    // No raw e-mail or handle anywhere in the database directory (database, WAL, anything else).
    const files = readdirSync(dir).map((f) => readFileSync(join(dir!, f)));
    const raw = [...model.values()].slice(0, 200).flatMap((m) => [m.email, m.handle.toLowerCase(), m.idfa]);
    for (const value of [...raw, 'crash0@example.com']) {
      for (const content of files) expect(content.includes(Buffer.from(value)), `raw ${value} on disk`).toBe(false);
    }
    for (const value of raw.slice(0, 50)) expect(t.logs.includes(value), `raw ${value} in logs`).toBe(false);
  }, 240_000);
});
