/**
 * Ingest from one and from two `tailor serve` processes on one PostgreSQL database (issue 13,
 * speed 6): REST requests of 1,000 members (user id, e-mail, handle, IDFA) from 8 senders spread
 * over the processes, members accepted per second. The configuration is paused meanwhile, so the
 * processes only ingest (their sync loops find nothing due) and the figure is the ingest path's.
 */
import { openStore } from '../src/store/open.ts';
import type { Emu, TailorProcess } from '../test/e2e/harness.ts';
import { sharedEnv, startServe } from '../test/scale/processes.ts';
import { deviceId } from './data.ts';
import { putAdminConfiguration } from './configuration.ts';
import { log } from './lib.ts';

export interface ServesRun {
  processes: number;
  members: number;
  seconds: number;
  membersPerSecond: number;
}

const SENDERS = 8;

export async function servesBench(emu: Emu, url: string, opts: { members: number; counts: number[] }): Promise<ServesRun[]> {
  const store = await openStore({ kind: 'postgres', url });
  const runs: ServesRun[] = [];
  try {
    const configuration = await putAdminConfiguration(store, emu, 'bench serves');
    await store.setConfigurationState(configuration.id, 'needs_reauth', 'bench: ingest only', Date.now(), 'worker');
    for (const processes of opts.counts) {
      const id = `serves${processes}`;
      await store.putAudience(id, `Bench serves ${processes}`, Date.now(), 'admin_token');
      await store.putConnection(
        id,
        configuration.id,
        { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false },
        Date.now(),
        'admin_token',
      );
      const env = sharedEnv(emu, url, { TAILOR_LOG_LEVEL: 'warn', TAILOR_REFRESH_INTERVAL_MS: '3600000' });
      const serves: TailorProcess[] = await Promise.all(Array.from({ length: processes }, () => startServe(emu, env)));
      try {
        const requests = Math.ceil(opts.members / 1_000);
        log(`ingest (PostgreSQL): ${opts.members.toLocaleString('en-US')} members through ${processes} tailor serve process(es), ${SENDERS} senders`);
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: SENDERS }, async (_, s) => {
            const serve = serves[s % processes]!;
            while (next < requests) {
              const r = next++;
              const add = Array.from({ length: Math.min(1_000, opts.members - r * 1_000) }, (_, k) => {
                const i = r * 1_000 + k;
                return { user_id: `${id}-${i}`, email: `${id}-${i}@example.com`, twitter_handle: `@${id}_${i}`, ios_advertising_id: deviceId(i) };
              });
              const res = await serve.api('POST', `/audiences/${id}/members`, { add });
              if (res.status !== 202) throw new Error(`members answered ${res.status}`);
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        runs.push({ processes, members: opts.members, seconds, membersPerSecond: opts.members / seconds });
      } finally {
        await Promise.all(serves.map((s) => s.stop()));
      }
    }
  } finally {
    await store.close();
  }
  return runs;
}
