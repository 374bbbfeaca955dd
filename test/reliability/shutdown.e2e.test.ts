/**
 * Graceful shutdown (issue 7): SIGTERM to `tailor serve` under heavy load — a client posting large
 * requests without pause, X answering slowly so batches are in flight — stops taking requests,
 * lets in-flight batches finish and settle, and exits 0 well within the 45 s grace period, holding
 * no lease. A restart on the same database continues: requests cut short are sent again, and X
 * ends holding exactly every acknowledged change. When X hangs, the wait is bounded by the X
 * timeout (TAILOR_X_TIMEOUT_MS): the batch is released, not lost.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TailorProcess, waitFor } from '../e2e/harness.ts';
import { createAudiences, expectCreatedOnce, inFlight, leasesHeld, send, startStack, waitExact, type Stack } from './stack.ts';
import { Workload } from './workload.ts';

async function usersCallsAnswered(s: Stack): Promise<number> {
  const stats = await s.emu.get<{ requests: Record<string, Record<string, number>> }>('/_emulator/stats');
  return Object.values(stats.requests['POST custom_audience_users'] ?? {}).reduce((a, b) => a + b, 0);
}

describe('graceful shutdown', () => {
  let s: Stack | undefined;
  afterEach(async () => {
    await s?.tailor.kill();
    await s?.emu.close();
    if (s) rmSync(s.tailor.dir, { recursive: true, force: true });
    s = undefined;
  });

  it('SIGTERM under load: in-flight batches settle, exit 0 within seconds, a restart loses nothing', async () => {
    const stack = (s = await startStack());
    const ids = ['stop-a', 'stop-b', 'stop-c'];
    await createAudiences(stack.tailor, stack.configId, ids);
    await stack.emu.faults({ latency_ms: 1500, only: 'users' });
    const work = new Workload('stop', 5);

    // The load: large requests one after another, each retried until acknowledged.
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        const id = ids[n++ % ids.length]!;
        await send(() => stack.tailor, work, id, work.request(id, 2_000), 120_000);
      }
    })();
    try {
      // Batches have gone out, and more are in flight (each takes 1.5 s on X).
      await waitFor('users calls answered by X', async () => (await usersCallsAnswered(stack)) >= 2, 30_000);
      await waitFor('a batch in flight', async () => inFlight(stack.tailor.dir) > 0, 30_000, 20);
      const before = await usersCallsAnswered(stack);
      const started = Date.now();
      const code = await stack.tailor.kill('SIGTERM');
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `shutdown: SIGTERM to exit ${seconds.toFixed(1)} s, ${(await usersCallsAnswered(stack)) - before} users calls completed meanwhile, ${work.changes} changes acknowledged so far`,
      );
      expect(code).toBe(0);
      expect(seconds).toBeLessThan(15);
      expect(stack.tailor.logs).toMatch(/SIGTERM received, shutting down/);
      expect(leasesHeld(stack.tailor.dir), 'leases left behind').toBe(0);

      const acknowledged = work.changes;
      stack.tailor = await TailorProcess.start(stack.emu, { dir: stack.tailor.dir, env: stack.tailor.env });
      await waitFor('the restarted process to take requests', async () => work.changes >= acknowledged + 2 * 2_000, 60_000);
    } finally {
      writing = false;
      await writer;
    }
    await stack.emu.faults({ reset: true });
    await waitExact(stack, work, ids);
    await expectCreatedOnce(stack, ids);
  }, 180_000);

  it('SIGTERM while X hangs: bounded by the X timeout, the batch released, nothing lost', async () => {
    const stack = (s = await startStack({ env: { TAILOR_X_TIMEOUT_MS: '3000' } }));
    const ids = ['hang-a'];
    await createAudiences(stack.tailor, stack.configId, ids);
    const work = new Workload('hang', 6);
    await send(() => stack.tailor, work, ids[0]!, work.request(ids[0]!, 1_000));
    await waitExact(stack, work, ids);
    // X now answers users calls after a minute; Tailor gives up on each after 3 s.
    await stack.emu.faults({ latency_ms: 60_000, only: 'users' });
    await send(() => stack.tailor, work, ids[0]!, work.request(ids[0]!, 1_000));
    await waitFor('a batch waiting on X', async () => inFlight(stack.tailor.dir) > 0, 30_000, 20);
    const started = Date.now();
    const code = await stack.tailor.kill('SIGTERM');
    const seconds = (Date.now() - started) / 1000;
    console.log(`shutdown: SIGTERM while X hangs: exit after ${seconds.toFixed(1)} s`);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(3 + 5); // the X timeout, and the settle
    expect(leasesHeld(stack.tailor.dir)).toBe(0);

    await stack.emu.faults({ reset: true });
    stack.tailor = await TailorProcess.start(stack.emu, { dir: stack.tailor.dir, env: stack.tailor.env });
    await waitExact(stack, work, ids);
  }, 120_000);
});
