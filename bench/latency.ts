/**
 * End-to-end latency: from the REST acknowledgement (the 202 reaching the client) to the X users
 * call that carried the change, at a steady rate well below capacity.
 *
 * How a change is matched to its call: the emulator's request log gives every users call its
 * arrival time (`at`); after each new call the emulator's member list for the audience is read,
 * and the hashes new in it are given that call's time. When two calls land between two reads
 * (rare at one call per flush), the later time is used, which can only overstate latency. The
 * emulator answers a small users call within a few milliseconds of its arrival; those are not
 * counted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor, type Emu, type TailorProcess } from '../test/e2e/harness.ts';
import { log, quantile, sha } from './lib.ts';

export interface LatencyResult {
  flushIntervalMs: number;
  changesPerSecond: number;
  seconds: number;
  samples: number;
  missing: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  usersCalls: number;
}

interface Call {
  seq: number;
  at: number;
  route: string;
  audience_id: string | null;
  status: number;
}

export async function latencyBench(
  tailor: TailorProcess,
  emu: Emu,
  configId: string,
  opts: { flushIntervalMs: number; requestsPerSecond?: number; membersPerRequest?: number; seconds?: number },
): Promise<LatencyResult> {
  const rps = opts.requestsPerSecond ?? 20;
  const perRequest = opts.membersPerRequest ?? 10;
  const seconds = opts.seconds ?? 30;
  log(`latency: ${rps * perRequest} changes/s for ${seconds} s, TAILOR_FLUSH_INTERVAL_MS=${opts.flushIntervalMs}`);
  const accountId = emu.admin().accountId;
  await tailor.api('PUT', '/audiences/latency', { name: 'Bench latency' });
  await tailor.api('PUT', `/audiences/latency/connections/${configId}`, { forward_twitter_handles: false, forward_device_ids: false });
  // An X audience is created with its first pending add (src/store/creation.ts): one member, not
  // timed, makes it; the clock starts once X holds it and nothing is pending.
  const warm = await tailor.api('POST', '/audiences/latency/members', { add: [{ user_id: 'l-warm', email: 'latency-warm@example.com' }] });
  if (warm.status !== 202) throw new Error(`members answered ${warm.status}`);
  const xId = await waitFor(
    'the latency audience on X',
    async () => {
      const d = (await tailor.downstreams('latency')).email;
      return d?.x_audience_id && d.pending === 0 ? (d.x_audience_id as string) : null;
    },
    60_000,
  );

  const acked = new Map<string, number>();
  const answered = new Map<string, number>();
  const lastSeqRes = await fetch(`${emu.url}/_emulator/requests?limit=0`);
  await lastSeqRes.arrayBuffer();
  let since = Number(lastSeqRes.headers.get('x-emulator-last-seq') ?? 0);
  let usersCalls = 0;
  let sending = true;
  let stopAt = Infinity;

  const newCalls = async (): Promise<Call[]> => {
    const calls = await emu.get<Call[]>(`/_emulator/requests?since=${since}&limit=10000`);
    if (calls.length > 0) since = calls[calls.length - 1]!.seq;
    return calls.filter((c) => c.route === 'POST custom_audience_users' && c.audience_id === xId && c.status === 200);
  };

  const poller = (async () => {
    let pending: Call[] = [];
    while (sending || answered.size < acked.size) {
      pending.push(...(await newCalls()));
      if (pending.length > 0) {
        const held: string[] = (await emu.members(accountId, xId)).email ?? [];
        const after = await newCalls();
        if (after.length === 0) {
          const at = Math.max(...pending.map((c) => c.at));
          usersCalls += pending.length;
          for (const h of held) if (!answered.has(h) && acked.has(h)) answered.set(h, at);
          pending = [];
        } else {
          pending.push(...after); // a call landed meanwhile: read again before attributing
        }
      }
      if (!sending && Date.now() > stopAt + 30_000) break;
      await sleep(50);
    }
  })();

  const started = Date.now();
  let n = 0;
  for (let i = 0; Date.now() - started < seconds * 1000; i++) {
    const due = started + (i * 1000) / rps;
    if (due > Date.now()) await sleep(due - Date.now());
    const members = Array.from({ length: perRequest }, () => ({ user_id: `l${n}`, email: `latency${n++}@example.com` }));
    const res = await tailor.api('POST', '/audiences/latency/members', { add: members });
    const at = Date.now();
    if (res.status !== 202) throw new Error(`members answered ${res.status}`);
    for (const m of members) acked.set(sha(m.email), at);
  }
  sending = false;
  stopAt = Date.now();
  await poller;

  const latencies = [...acked].flatMap(([h, ack]) => (answered.has(h) ? [answered.get(h)! - ack] : [])).sort((a, b) => a - b);
  return {
    flushIntervalMs: opts.flushIntervalMs,
    changesPerSecond: rps * perRequest,
    seconds,
    samples: latencies.length,
    missing: acked.size - latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p95Ms: quantile(latencies, 0.95),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    usersCalls,
  };
}
