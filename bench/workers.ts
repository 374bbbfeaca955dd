/**
 * Sync throughput on PostgreSQL with 1, 2 and 4 `tailor worker` processes (each with the default
 * TAILOR_WORKER_CONCURRENCY of 4 sync loops) sharing one database and one X account: changes
 * delivered to the emulator per second while a backlog drains.
 *
 * Each run ingests its own backlog through the engine first, across several audiences (one
 * in-flight batch per downstream audience, so audiences are the unit of parallelism), with the
 * configuration paused; then starts the workers, waits until they are all up, resumes the
 * configuration (which wakes them through NOTIFY) and times until nothing is pending. Process
 * start-up is therefore not in the figure; creating the X audiences is. The emulator runs in
 * the benchmark's process; on two cores the database, the emulator and the workers share the
 * same CPUs, which bounds what more processes can add.
 */
import { prepareChanges } from '../src/membership/changes.ts';
import { MemberKeys } from '../src/membership/member-key.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/port.ts';
import { SECRET_KEY, type Emu } from '../test/e2e/harness.ts';
import { WorkerProcess, sharedEnv } from '../test/scale/processes.ts';
import { putAdminConfiguration } from './configuration.ts';
import { log } from './lib.ts';

export interface WorkersRun {
  processes: number;
  loopsPerProcess: number;
  audiences: number;
  changes: number;
  seconds: number;
  changesPerSecond: number;
  /** The emulator's added latency per users call. */
  usersLatencyMs: number;
}

async function pending(store: Store, audiences: string[]): Promise<number> {
  const snapshot = await store.metricsSnapshot!();
  return snapshot.pending.filter((p) => audiences.includes(p.audienceId)).reduce((s, p) => s + p.count, 0);
}

export async function workersBench(
  emu: Emu,
  url: string,
  opts: { audiences: number; perAudience: number; counts: number[]; usersLatencyMs: number },
): Promise<WorkersRun[]> {
  const store = await openStore({ kind: 'postgres', url });
  const runs: WorkersRun[] = [];
  try {
    const configuration = await putAdminConfiguration(store, emu, 'bench');
    for (const processes of opts.counts) {
      const ids = Array.from({ length: opts.audiences }, (_, k) => `w${processes}-${k}`);
      // Paused: claims skip the configuration's audiences until the workers are all running.
      await store.setConfigurationState(configuration.id, 'needs_reauth', 'bench: held until the workers are up', Date.now(), 'worker');
      log(`workers (PostgreSQL): ingesting ${(opts.audiences * opts.perAudience).toLocaleString('en-US')} changes for the ${processes}-process run`);
      for (const id of ids) {
        await store.putAudience(id, `Bench workers ${id}`, Date.now(), 'admin_token');
        await store.putConnection(
          id,
          configuration.id,
          { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false },
          Date.now(),
          'admin_token',
        );
        for (let i = 0; i < opts.perAudience; i += 5_000) {
          const members = Array.from({ length: Math.min(5_000, opts.perAudience - i) }, (_, j) => ({
            key: { kind: 'user_id' as const, value: `${id}-${i + j}` },
            identities: [{ kind: 'email' as const, value: `w${i + j}@${id}.example` }],
          }));
          const prepared = prepareChanges(new MemberKeys(SECRET_KEY), 'add', members);
          await store.applyMemberChanges(id, prepared.changes, Date.now(), prepared.counts);
        }
      }
      const total = await pending(store, ids);
      log(`workers (PostgreSQL): ${processes} process(es) draining ${total.toLocaleString('en-US')} changes`);
      const env = sharedEnv(emu, url, { TAILOR_LOG_LEVEL: 'info', TAILOR_FLUSH_INTERVAL_MS: '1000', TAILOR_REFRESH_INTERVAL_MS: '3600000' });
      const workers = await Promise.all(Array.from({ length: processes }, () => WorkerProcess.start(env)));
      const started = performance.now();
      await store.setConfigurationState(configuration.id, 'active', null, Date.now(), 'worker');
      try {
        for (;;) {
          if ((await pending(store, ids)) === 0) break;
          if (performance.now() - started > 300_000) throw new Error('the backlog did not drain in 5 minutes');
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        await Promise.all(workers.map((w) => w.kill('SIGTERM')));
      }
      const seconds = (performance.now() - started) / 1000;
      runs.push({
        processes,
        loopsPerProcess: 4,
        audiences: opts.audiences,
        changes: total,
        seconds,
        changesPerSecond: total / seconds,
        usersLatencyMs: opts.usersLatencyMs,
      });
    }
  } finally {
    await store.close();
  }
  return runs;
}
