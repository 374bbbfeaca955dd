/**
 * Scale-out on PostgreSQL, end to end (issue 5): one `tailor serve` and three `tailor worker`
 * processes on one database, 200,000 membership changes across 20 audiences through the REST API,
 * one worker SIGKILLed mid-way and another started. The emulator is the judge:
 * - every X audience ends with exactly the expected hashes;
 * - no downstream audience is created twice (one live audience per name, creations counted);
 * - X's users rate limit is never exceeded (no 429) although it is set just above Tailor's rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Emu, sha, waitFor, type TailorProcess } from '../e2e/harness.ts';
import { createTestDatabase, type TestDatabase } from '../store/pg.ts';
import { WorkerProcess, sharedEnv, startServe } from './processes.ts';

const AUDIENCES = 20;
/** 200,000 by default; smaller to iterate locally (TAILOR_SCALE_CHANGES=20000). */
const CHANGES = Number(process.env.TAILOR_SCALE_CHANGES ?? 200_000);
const PER_AUDIENCE = CHANGES / AUDIENCES;
/** Per audience: 80% of the changes add members, 10% remove some, 10% change members' e-mail. */
const ADDS = PER_AUDIENCE * 0.8;
const REMOVES = PER_AUDIENCE * 0.1;
const MOVES = PER_AUDIENCE * 0.1;
/** Members per REST request: large requests, as a bulk sender would make them. */
const CHUNK = 4_000;
/** Requests in flight at once: concurrent ingest into the database from the serve process. */
const POSTERS = 3;

/**
 * Tailor's ceiling for `users` calls, low enough that the four processes together want more (the
 * gate binds for most of the run), and the emulator's limit just above it. Tailor's token bucket
 * (src/sync/rate.ts) lets through at most BURST + rate * window in any window: 25 + 90/min * 10 s
 * = 40. The emulator allows 45 per fixed 10-second window, so any excess at all (a bucket not
 * shared between the processes, or not locked) shows up as a 429.
 */
const TAILOR_USERS_PER_MINUTE = 90;
const TAILOR_BURST = 25;
const X_WINDOW_MS = 10_000;
const X_LIMIT = Math.ceil(TAILOR_BURST + (TAILOR_USERS_PER_MINUTE * X_WINDOW_MS) / 60_000) + 5;

const email = (k: number, i: number): string => `user${i}@aud${k}.example`;
const movedEmail = (k: number, i: number): string => `moved${i}@aud${k}.example`;
const uuid = (k: number, i: number): string => `00000000-0000-4000-8000-${(k * 1_000_000 + i).toString(16).padStart(12, '0')}`;
/** Every 4th member has a device; every 20th shares it with the next member (a family iPad). */
function device(k: number, i: number): string | undefined {
  if (i % 4 === 0) return uuid(k, i);
  if (i % 20 === 1) return uuid(k, i - 1);
  return undefined;
}

/** The final state per audience, computed from the same sequence the test sends. */
function expected(k: number): { email: string[]; device_id: string[] } {
  const emails: string[] = [];
  const devices = new Set<string>();
  for (let i = REMOVES; i < ADDS; i += 1) {
    emails.push(sha(i < REMOVES + MOVES ? movedEmail(k, i) : email(k, i)));
    const d = device(k, i);
    if (d) devices.add(sha(d));
  }
  return { email: emails.sort(), device_id: [...devices].sort() };
}

describe('scale-out on PostgreSQL: 1 serve + 3 workers, a worker killed', () => {
  let emu: Emu;
  let db: TestDatabase;
  let serve: TailorProcess | undefined;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    emu = await Emu.start({ usersRateLimit: { limit: X_LIMIT, windowMs: X_WINDOW_MS } });
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await serve?.stop();
    await emu?.close();
    await db?.drop();
  });

  it(`${CHANGES} changes, 20 audiences: exact hashes on X, each audience created once, no 429`, { timeout: 200_000 }, async () => {
    const started = Date.now();
    const env = sharedEnv(emu, db.url, {
      TAILOR_FLUSH_INTERVAL_MS: '200',
      TAILOR_X_REQUESTS_PER_MINUTE: String(TAILOR_USERS_PER_MINUTE),
      TAILOR_WORKER_CONCURRENCY: '3',
      TAILOR_REFRESH_INTERVAL_MS: '600000',
    });
    // The emulator's limit as Tailor will meet it (POST /_emulator/config starts fresh windows).
    await emu.post('/_emulator/config', { users_rate_limit: { limit: X_LIMIT, window_ms: X_WINDOW_MS } });
    // All four processes start together on an empty database: the migration runs once.
    const [s, ...ws] = await Promise.all([startServe(emu, env), WorkerProcess.start(env), WorkerProcess.start(env), WorkerProcess.start(env)]);
    serve = s;
    workers.push(...ws);
    const accountId = emu.admin().accountId;
    const configId = await serve.addConfiguration(emu);

    const connect = async (k: number): Promise<void> => {
      const res = await serve!.api('PUT', `/audiences/aud${k}/connections/${configId}`, { forward_twitter_handles: false });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    };
    for (let k = 0; k < AUDIENCES; k += 1) expect((await serve.api('PUT', `/audiences/aud${k}`, { name: `Scale ${k}` })).status).toBe(201);
    // Half the audiences are connected now, half mid-way (their members then go out by resync).
    for (let k = 0; k < AUDIENCES / 2; k += 1) await connect(k);

    // The requests, in order per audience, interleaved across audiences.
    const requests: { k: number; body: unknown }[] = [];
    for (let from = 0; from < ADDS; from += CHUNK) {
      for (let k = 0; k < AUDIENCES; k += 1) {
        const add = [];
        for (let i = from; i < Math.min(ADDS, from + CHUNK); i += 1) add.push({ user_id: `u${i}`, email: email(k, i), ios_advertising_id: device(k, i) });
        requests.push({ k, body: { add } });
      }
    }
    for (let k = 0; k < AUDIENCES; k += 1) {
      const remove = [];
      const add = [];
      for (let i = 0; i < REMOVES; i += 1) remove.push({ user_id: `u${i}` });
      for (let i = REMOVES; i < REMOVES + MOVES; i += 1) add.push({ user_id: `u${i}`, email: movedEmail(k, i), ios_advertising_id: device(k, i) });
      requests.push({ k, body: { add, remove } });
    }

    // Posters keep each audience's requests in order (a request waits for the audience's previous one).
    const tail = new Map<number, Promise<void>>();
    let sent = 0;
    const midway: { done?: Promise<void> } = {};
    let killedHolding = 0;
    const leasesOf = async (pid: number | undefined): Promise<number> => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const r = await client.query<{ n: string }>(
          "SELECT count(*) AS n FROM downstreams WHERE lease_token IS NOT NULL AND lease_owner LIKE '%:' || $1 || ':%'",
          [String(pid)],
        );
        return Number(r.rows[0]!.n);
      } finally {
        await client.end();
      }
    };
    const post = async (r: { k: number; body: unknown }): Promise<void> => {
      const res = await serve!.api('POST', `/audiences/aud${r.k}/members`, r.body);
      expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(202);
      sent += 1;
      if (sent === Math.floor(requests.length / 2)) {
        midway.done = (async () => {
          for (let k = AUDIENCES / 2; k < AUDIENCES; k += 1) await connect(k);
          // Mid-way, with creations and sends in flight: one worker dies without a word while it
          // holds a lease (waited for, briefly), and another comes.
          const victim = workers[0]!;
          killedHolding = await waitFor('the victim to hold a lease', () => leasesOf(victim.pid), 10_000, 20).catch(() => 0);
          await victim.kill('SIGKILL');
          workers.push(await WorkerProcess.start(env));
        })();
      }
    };
    const queue = [...requests];
    await Promise.all(
      Array.from({ length: POSTERS }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) {
          const previous = tail.get(r.k) ?? Promise.resolve();
          const mine = previous.then(() => post(r));
          tail.set(r.k, mine);
          await mine;
        }
      }),
    );
    await midway.done;
    const ingested = Date.now();

    // Everything lands on X exactly.
    const want = Array.from({ length: AUDIENCES }, (_, k) => expected(k));
    const done = new Set<number>();
    await waitFor(
      'every X audience to hold exactly its expected hashes',
      async () => {
        for (let k = 0; k < AUDIENCES; k += 1) {
          if (done.has(k)) continue;
          const downs = await serve!.downstreams(`aud${k}`);
          for (const type of ['email', 'device_id'] as const) {
            const d = downs[type];
            if (!d?.x_audience_id || d.pending !== 0) return false;
            const held = ((await emu.members(accountId, d.x_audience_id))[type] ?? []).slice().sort();
            if (held.length !== want[k]![type].length || JSON.stringify(held) !== JSON.stringify(want[k]![type])) return false;
          }
          done.add(k);
        }
        return true;
      },
      170_000 - (Date.now() - started),
      1_000,
    );
    const synced = Date.now();

    // Tailor's own view agrees: members sent per downstream audience, nothing pending.
    for (let k = 0; k < AUDIENCES; k += 1) {
      const downs = await serve.downstreams(`aud${k}`);
      expect([k, downs.email.members, downs.device_id.members, downs.email.pending]).toEqual([k, want[k]!.email.length, want[k]!.device_id.length, 0]);
      expect(downs.handle?.state ?? 'none').not.toBe('active');
    }

    // Each downstream audience was created once: one live X audience per name, the emulator's
    // creation count equals the number of downstream audiences, and no name needed a [2].
    const xAudiences = (await emu.audiences(accountId)).filter((a) => a.name.startsWith('Scale '));
    const live = xAudiences.filter((a) => !a.deleted);
    expect(live).toHaveLength(AUDIENCES * 2);
    expect(new Set(live.map((a) => a.name)).size).toBe(AUDIENCES * 2);
    expect(xAudiences.filter((a) => a.name.includes('['))).toEqual([]);
    const stats = await emu.get<{
      requests: Record<string, Record<string, number>>;
      total_429: number;
      audiences_created: Record<string, number>;
      max_requests_in_any_window: Record<string, number>;
    }>('/_emulator/stats');
    const usersCalls = Object.entries(stats.requests)
      .filter(([route]) => route.includes('users'))
      .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    expect(stats.audiences_created[accountId]).toBe(AUDIENCES * 2);

    // X's rate limit was never exceeded, by the four processes together.
    expect(stats.total_429).toBe(0);
    expect(Math.max(0, ...Object.values(stats.max_requests_in_any_window))).toBeLessThanOrEqual(X_LIMIT);

    console.log(
      `scale: ${CHANGES} changes ingested in ${((ingested - started) / 1000).toFixed(1)} s, on X after ${((synced - started) / 1000).toFixed(1)} s; ` +
        `killed worker held ${killedHolding} lease(s); ${usersCalls} users calls in ${((synced - started) / 1000).toFixed(0)} s ` +
        `(the gate allows at most ${Math.floor(TAILOR_BURST + (TAILOR_USERS_PER_MINUTE * (synced - started)) / 60_000)}); busiest ${X_WINDOW_MS / 1000}-s window: ${Math.max(0, ...Object.values(stats.max_requests_in_any_window))} users calls (limit ${X_LIMIT})`,
    );
  });
});
