/**
 * Crash safety (issue 7): 24 SIGKILLs of `tailor serve` at random moments over one continuous
 * workload. The kills cycle through three situations:
 * - `claim`: no fault; requests being ingested and batches claimed every few milliseconds;
 * - `x-call`: X answers `users` calls after 400 ms, so most kills land while a call is in flight;
 * - `after-answer`: X applies half the calls and then drops the connection (`drop_when: after`),
 *   so X holds changes Tailor never heard about, as if it died between X's answer and settling.
 * A request cut short by a kill is sent again until acknowledged, as mParticle would. In the end X
 * holds exactly the acknowledged members, each downstream audience was created once, and no raw
 * identifier is in the database directory or any process's logs.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { TailorProcess } from '../e2e/harness.ts';
import { createAudiences, expectCreatedOnce, expectNoRawPii, secretsOf, send, startStack, waitExact, type Stack } from './stack.ts';
import { Workload } from './workload.ts';
import { waitFor } from '../support/wait.ts';

const KILLS = 24;
const MODES = ['claim', 'x-call', 'after-answer'] as const;
const LATENCY_MS = 400;

describe('crash safety', () => {
  let s: Stack | undefined;
  afterAll(async () => {
    await s?.tailor.kill();
    await s?.emu.close();
    if (s) rmSync(s.tailor.dir, { recursive: true, force: true });
  });

  it(`${KILLS} SIGKILLs at random moments lose nothing, duplicate nothing`, async () => {
    s = await startStack({ env: { TAILOR_FLUSH_INTERVAL_MS: '50' } });
    const stack = s;
    const ids = ['crash-a', 'crash-b', 'crash-c'];
    await createAudiences(stack.tailor, stack.configId, ids);
    const work = new Workload('crash', 99);
    let logs = '';

    // The continuous workload: one request after another, each retried until acknowledged.
    let writing = true;
    let requests = 0;
    let acknowledged = 0;
    const writer = (async () => {
      while (writing) {
        const id = ids[requests % ids.length]!;
        requests += 1;
        await send(() => stack.tailor, work, id, work.request(id, 400), 120_000);
        acknowledged += 1;
      }
    })();

    let seed = 12345;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const killedAt: { at: number; mode: (typeof MODES)[number] }[] = [];
    try {
      for (let k = 0; k < KILLS; k += 1) {
        const mode = MODES[k % MODES.length]!;
        await stack.emu.faults(
          mode === 'claim'
            ? { reset: true }
            : mode === 'x-call'
              ? { reset: true, latency_ms: LATENCY_MS, only: 'users' }
              : { reset: true, drop_rate: 0.5, drop_when: 'after', only: 'all' },
        );
        // Each process takes requests before it dies (on a loaded machine a restart can take
        // longer than the random moment below), then is killed at a random moment.
        const before = acknowledged;
        await waitFor('a request acknowledged by the new process', async () => acknowledged > before, 120_000, 20);
        await new Promise((r) => setTimeout(r, 100 + random() * 700));
        killedAt.push({ at: Date.now(), mode });
        await stack.tailor.kill('SIGKILL');
        logs += stack.tailor.logs;
        stack.tailor = await TailorProcess.start(stack.emu, { dir: stack.tailor.dir, env: stack.tailor.env });
      }
    } finally {
      writing = false;
      await writer;
    }
    await stack.emu.faults({ reset: true });
    expect(killedAt).toHaveLength(KILLS);
    expect(work.changes).toBeGreaterThan(5_000);

    await waitExact(stack, work, ids, 120_000);
    await expectCreatedOnce(stack, ids);

    // The kills did land where they were meant to: some while a users call was in flight on X,
    // and X applied calls whose answers Tailor never received.
    const calls = await stack.emu.get<{ at: number; route: string; fault: string | null }[]>('/_emulator/requests?limit=10000');
    const users = calls.filter((c) => c.route === 'POST custom_audience_users');
    const inFlight = killedAt.filter((k) => k.mode === 'x-call' && users.some((c) => c.at <= k.at && k.at <= c.at + LATENCY_MS)).length;
    const appliedUnheard = calls.filter((c) => c.fault === 'drop_after').length;
    console.log(
      `crash: ${KILLS} kills, ${work.changes} changes in ${requests} requests; ${inFlight} kills during a users call; ${appliedUnheard} X calls applied and dropped`,
    );
    expect(inFlight).toBeGreaterThan(0);
    expect(appliedUnheard).toBeGreaterThan(0);

    expectNoRawPii(stack.tailor.dir, logs + stack.tailor.logs, work.rawSample, secretsOf(stack));
  }, 300_000);
});
