/**
 * Firehose load: membership requests of 100 profiles each, sent back to back by a few concurrent
 * senders (as mParticle streams), against a real `tailor serve` process and the X emulator.
 * Reports the answer time p50/p99 and the member changes made durable per second (every answer
 * is a 200 sent after the changes were committed).
 *
 *   npx tsx test/firehose/load.ts [requests=400] [concurrency=4]
 *
 * Exported for `npm run bench`.
 */
import { randomUUID } from 'node:crypto';
import { Emu, TailorProcess } from '../e2e/harness.ts';

export interface FirehoseLoadResult {
  requests: number;
  profilesPerRequest: number;
  concurrency: number;
  /** Requests per second when paced; null when sent back to back. */
  ratePerSecond: number | null;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  changesPerSecond: number;
}

function request(accountId: string, audienceId: number, seq: number, profiles: number): string {
  const user_profiles = Array.from({ length: profiles }, (_, i) => {
    const n = seq * profiles + i;
    return {
      mpid: String(-(2n ** 62n) + BigInt(n)),
      user_identities: [
        { type: 'email', encoding: 'raw', value: `user${n}@example.com` },
        { type: 'twitter', encoding: 'raw', value: `@user${n}` },
      ],
      device_identities: [{ type: 'ios_advertising_id', encoding: 'raw', value: randomUUID() }],
      audiences: [
        {
          audience_id: audienceId,
          audience_name: 'Load',
          audience_subscription_settings: { forwardEmails: 'true', forwardTwitterHandles: 'true', forwardDeviceIds: 'true' },
          action: n % 10 === 9 ? 'delete' : 'add',
        },
      ],
    };
  });
  return JSON.stringify({
    type: 'audience_membership_change_request',
    id: randomUUID(),
    timestamp_ms: Date.now(),
    firehose_version: '3.2.0',
    account: { account_id: 1, account_settings: { accountId } },
    user_profiles,
  });
}

export async function firehoseLoad(
  opts: {
    requests?: number;
    concurrency?: number;
    profilesPerRequest?: number;
    /** Paced (open loop): request i is due at start + i/rate, and its time counts from then. Unset: back to back. */
    ratePerSecond?: number;
    onStarted?: (tailor: TailorProcess) => void;
  } = {},
): Promise<FirehoseLoadResult> {
  const requests = opts.requests ?? 400;
  const concurrency = opts.concurrency ?? 4;
  const profiles = opts.profilesPerRequest ?? 100;
  const emu = await Emu.start();
  const tailor = await TailorProcess.start(emu, { env: { TAILOR_LOG_LEVEL: 'warn', TAILOR_FLUSH_INTERVAL_MS: '1000' } });
  try {
    await tailor.addConfiguration(emu);
    opts.onStarted?.(tailor); // e.g. the benchmark samples the process's memory
    const accountId = emu.admin().accountId;
    const post = async (body: string, due?: number): Promise<number> => {
      const started = due ?? performance.now();
      const res = await fetch(`${tailor.url}/firehose`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`firehose answered ${res.status}`);
      return performance.now() - started;
    };
    // Warm up (JIT, statement caches), not measured.
    for (let i = 0; i < 10; i++) await post(request(accountId, 1, 1_000_000 + i, profiles));
    const bodies = Array.from({ length: requests }, (_, i) => request(accountId, 2 + (i % 3), i, profiles));
    const times: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) {
          const i = next++;
          const due = opts.ratePerSecond ? started + (i * 1000) / opts.ratePerSecond : undefined;
          if (due !== undefined && due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
          times.push(await post(bodies[i]!, due));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(times.length * q))]! * 10) / 10;
    return {
      requests,
      profilesPerRequest: profiles,
      concurrency,
      ratePerSecond: opts.ratePerSecond ?? null,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: at(1),
      changesPerSecond: Math.round((requests * profiles) / seconds),
    };
  } finally {
    await tailor.stop();
    await emu.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [requests, concurrency] = process.argv.slice(2).map(Number);
  console.log(JSON.stringify(await firehoseLoad({ requests: requests || undefined, concurrency: concurrency || undefined }), null, 2));
}
