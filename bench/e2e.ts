/**
 * End to end over HTTP (issue 13, speed 2 and 3), each on a fresh `tailor serve` (SQLite, flush
 * 1 s) and emulator:
 *
 * - REST: N members (user id, e-mail, handle, IDFA) in requests of 1,000 from 4 senders; Firehose:
 *   the same N in `audience_membership_change_request`s of 100 profiles (mpid, e-mail, handle,
 *   IDFA) from 4 senders. Figures: accepted members/s (the last 202/200 is sent once the changes
 *   are durable) and the time until Tailor's X ledger holds all 3 × N hashes as confirmed by X's
 *   answers (checked against the emulator's own lists at the end).
 * - Firehose answers while one N-member REST request is applied: one sender, back to back, for as
 *   long as that request is in flight.
 */
import { randomUUID } from 'node:crypto';
import { Emu, TailorProcess } from '../test/e2e/harness.ts';
import { deviceId } from './data.ts';
import { log, quantile } from './lib.ts';

export interface E2eRun {
  source: 'rest' | 'firehose';
  members: number;
  requests: number;
  senders: number;
  /** From the first request to the last answer. */
  acceptSeconds: number;
  acceptedPerSecond: number;
  /** From the first request until X confirmed every hash (Tailor's ledger; the emulator agrees). */
  deliveredSeconds: number;
  deliveredPerSecond: number;
  /** Hashes the emulator holds at the end, of 3 × members. */
  onX: number;
}

export interface BigRequestRun {
  members: number;
  restSeconds: number;
  firehoseRequests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface E2eResult {
  rest: E2eRun;
  firehose: E2eRun;
  bigRequest: BigRequestRun;
}

const FLUSH_MS = 1_000;
const SENDERS = 4;

const restMember = (prefix: string, i: number) => ({
  user_id: `${prefix}${i}`,
  email: `${prefix}${i}@example.com`,
  twitter_handle: `@${prefix}_${i}`,
  ios_advertising_id: deviceId(i),
});

function firehoseBody(accountId: string, audienceId: number, from: number, profiles: number): string {
  return JSON.stringify({
    type: 'audience_membership_change_request',
    id: randomUUID(),
    timestamp_ms: Date.now(),
    firehose_version: '3.2.0',
    account: { account_id: 1, account_settings: { accountId } },
    user_profiles: Array.from({ length: profiles }, (_, k) => {
      const n = from + k;
      return {
        mpid: String(1_000_000 + n),
        user_identities: [
          { type: 'email', encoding: 'raw', value: `f${n}@example.com` },
          { type: 'twitter', encoding: 'raw', value: `@f_${n}` },
        ],
        device_identities: [{ type: 'ios_advertising_id', encoding: 'raw', value: deviceId(n) }],
        audiences: [
          {
            audience_id: audienceId,
            audience_name: `E2E ${audienceId}`,
            audience_subscription_settings: { forwardEmails: 'true', forwardTwitterHandles: 'true', forwardDeviceIds: 'true' },
            action: 'add',
          },
        ],
      };
    }),
  });
}

async function postFirehose(tailor: TailorProcess, body: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${tailor.url}/firehose`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`firehose answered ${res.status}`);
  return performance.now() - started;
}

async function postRest(tailor: TailorProcess, audienceId: string, add: unknown[]): Promise<void> {
  const res = await tailor.api('POST', `/audiences/${audienceId}/members`, { add });
  if (res.status !== 202) throw new Error(`members answered ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
}

/** Runs `count` jobs from `senders` concurrent senders, each back to back. */
async function senders(count: number, n: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

/** Hashes X confirmed for the audience, by Tailor's ledger (each 200 settled). */
async function confirmed(tailor: TailorProcess, audienceId: string): Promise<number> {
  const downs = await tailor.downstreams(audienceId);
  return Object.values(downs).reduce((s: number, d: any) => s + (d.members as number), 0);
}

async function onX(tailor: TailorProcess, emu: Emu, audienceId: string): Promise<number> {
  const accountId = emu.admin().accountId;
  let total = 0;
  const downs: { x_audience_id: string }[] = Object.values(await tailor.downstreams(audienceId));
  for (const d of downs) {
    const held = await emu.members(accountId, d.x_audience_id);
    total += Object.values(held).reduce((s, l) => s + l.length, 0);
  }
  return total;
}

async function withTailor<T>(fn: (tailor: TailorProcess, emu: Emu, configId: string) => Promise<T>): Promise<T> {
  const emu = await Emu.start();
  const tailor = await TailorProcess.start(emu, {
    env: { TAILOR_LOG_LEVEL: 'warn', TAILOR_FLUSH_INTERVAL_MS: String(FLUSH_MS), TAILOR_REFRESH_INTERVAL_MS: '3600000' },
  });
  try {
    const configId = await tailor.addConfiguration(emu);
    return await fn(tailor, emu, configId);
  } finally {
    await tailor.stop();
    await emu.close();
  }
}

async function untilDelivered(tailor: TailorProcess, audienceId: string, want: number, started: number): Promise<number> {
  for (;;) {
    if ((await confirmed(tailor, audienceId)) >= want) return (performance.now() - started) / 1000;
    if (performance.now() - started > 600_000) throw new Error(`not delivered in 10 minutes (${audienceId})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function restRun(members: number): Promise<E2eRun> {
  return withTailor(async (tailor, emu, configId) => {
    await tailor.api('PUT', '/audiences/e2e', { name: 'E2E REST' });
    await tailor.api('PUT', `/audiences/e2e/connections/${configId}`, { forward_emails: true, forward_twitter_handles: true, forward_device_ids: true });
    const requests = Math.ceil(members / 1_000);
    log(`end to end (REST): ${members.toLocaleString('en-US')} members in ${requests} requests of 1,000 from ${SENDERS} senders`);
    const started = performance.now();
    await senders(requests, SENDERS, (r) =>
      postRest(
        tailor,
        'e2e',
        Array.from({ length: Math.min(1_000, members - r * 1_000) }, (_, k) => restMember('r', r * 1_000 + k)),
      ),
    );
    const acceptSeconds = (performance.now() - started) / 1000;
    const deliveredSeconds = await untilDelivered(tailor, 'e2e', 3 * members, started);
    return {
      source: 'rest',
      members,
      requests,
      senders: SENDERS,
      acceptSeconds,
      acceptedPerSecond: members / acceptSeconds,
      deliveredSeconds,
      deliveredPerSecond: members / deliveredSeconds,
      onX: await onX(tailor, emu, 'e2e'),
    };
  });
}

async function firehoseRun(members: number): Promise<E2eRun> {
  return withTailor(async (tailor, emu) => {
    const accountId = emu.admin().accountId;
    const requests = Math.ceil(members / 100);
    log(`end to end (Firehose): ${members.toLocaleString('en-US')} members in ${requests} requests of 100 profiles from ${SENDERS} senders`);
    // The audience and its connection come from the first request (as mParticle's first call).
    const bodies = Array.from({ length: requests }, (_, r) => firehoseBody(accountId, 7, r * 100, Math.min(100, members - r * 100)));
    const started = performance.now();
    await senders(requests, SENDERS, async (r) => void (await postFirehose(tailor, bodies[r]!)));
    const acceptSeconds = (performance.now() - started) / 1000;
    const audiences = (await tailor.api<{ data: { id: string }[] }>('GET', '/audiences')).body.data;
    const id = audiences[0]!.id;
    const deliveredSeconds = await untilDelivered(tailor, id, 3 * members, started);
    return {
      source: 'firehose',
      members,
      requests,
      senders: SENDERS,
      acceptSeconds,
      acceptedPerSecond: members / acceptSeconds,
      deliveredSeconds,
      deliveredPerSecond: members / deliveredSeconds,
      onX: await onX(tailor, emu, id),
    };
  });
}

async function bigRequestRun(members: number): Promise<BigRequestRun> {
  return withTailor(async (tailor, emu, configId) => {
    const accountId = emu.admin().accountId;
    await tailor.api('PUT', '/audiences/big', { name: 'E2E big request' });
    await tailor.api('PUT', `/audiences/big/connections/${configId}`, { forward_emails: true, forward_twitter_handles: true, forward_device_ids: true });
    // Warm up the Firehose path (JIT, its audience and X audiences), not measured.
    for (let i = 0; i < 10; i++) await postFirehose(tailor, firehoseBody(accountId, 9, 10_000_000 + i * 100, 100));
    const body = Array.from({ length: members }, (_, k) => restMember('b', k));
    log(`Firehose answers while one ${members.toLocaleString('en-US')}-member REST request is applied`);
    let inFlight = true;
    const started = performance.now();
    const rest = postRest(tailor, 'big', body).finally(() => (inFlight = false));
    const times: number[] = [];
    let seq = 0;
    while (inFlight) times.push(await postFirehose(tailor, firehoseBody(accountId, 9, 20_000_000 + seq++ * 100, 100)));
    await rest;
    const restSeconds = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    return {
      members,
      restSeconds,
      firehoseRequests: times.length,
      p50Ms: quantile(times, 0.5),
      p99Ms: quantile(times, 0.99),
      maxMs: times[times.length - 1] ?? NaN,
    };
  });
}

export async function e2eBench(members: number): Promise<E2eResult> {
  const rest = await restRun(members);
  const firehose = await firehoseRun(members);
  const bigRequest = await bigRequestRun(members);
  return { rest, firehose, bigRequest };
}
