/**
 * Sync throughput on PostgreSQL with 1, 2 and 4 `tailor worker` processes (each with the default
 * TAILOR_WORKER_CONCURRENCY of 4 sync loops) sharing one database: changes delivered to the
 * emulator per second while a backlog drains, the emulator adding 300 ms to every `users` call.
 *
 * The audiences (one batch in flight per downstream audience, so audiences are the unit of
 * parallelism) are spread over the emulator's X accounts that have a token of their own: X counts
 * `users` calls per token and account (1,500 a minute, Tailor keeps to 1,400: about 23 a second),
 * so on one account at 300 ms a call no more than 7 calls are in flight, whatever the number of
 * processes. Their X audiences are created before the clock runs (a first member each, synced):
 * X allows few audience creations a minute (Tailor keeps to 300), and a backlog drains into X
 * audiences that exist. Then, for each process count, a backlog of new members is ingested with
 * the configurations paused; the workers start, and once every process is up the configurations
 * are resumed (which wakes them through NOTIFY); the clock stops when the outbox is empty. The
 * emulator runs in the benchmark's process; on two cores the database, the emulator and the
 * workers share the same CPUs, which bounds what more processes can add.
 */
import pg from 'pg';
import { SecretBox } from '../src/core/secret-box.ts';
import { prepareChanges } from '../src/membership/changes.ts';
import { MemberKeys } from '../src/membership/member-key.ts';
import { openStore } from '../src/store/open.ts';
import type { Configuration, Store } from '../src/store/port.ts';
import { sealTokens } from '../src/sync/tokens.ts';
import { SECRET_KEY, type Emu } from '../test/e2e/harness.ts';
import { WorkerProcess, sharedEnv } from '../test/scale/processes.ts';
import { log } from './lib.ts';

const FLUSH_MS = 1_000;

export interface WorkersRun {
  processes: number;
  loopsPerProcess: number;
  audiences: number;
  /** X accounts (each with its own token) the audiences are spread over. */
  accounts: number;
  changes: number;
  seconds: number;
  changesPerSecond: number;
  /** The emulator's added latency per users call. */
  usersLatencyMs: number;
}

/** One configuration per X account whose admin has a token of its own (X counts calls per token). */
async function putConfigurations(store: Store, emu: Emu): Promise<Configuration[]> {
  const box = new SecretBox(SECRET_KEY);
  const out: Configuration[] = [];
  for (const user of emu.creds.users) {
    const account = user.accounts.find((a) => a.permissions.includes('ACCOUNT_ADMIN'));
    if (!account) continue;
    const tokens = sealTokens(box, { accessToken: user.access_token, accessTokenSecret: user.access_token_secret });
    const { configuration } = await store.putConfiguration(
      { name: `bench ${account.name}`, accountId: account.id, accountName: account.name, xUserId: user.user_id, screenName: user.screen_name, tokens },
      Date.now(),
      'cli',
    );
    out.push(configuration);
  }
  return out;
}

export async function workersBench(
  emu: Emu,
  url: string,
  opts: { audiences: number; perAudience: number; counts: number[]; usersLatencyMs: number },
): Promise<WorkersRun[]> {
  const store = await openStore({ kind: 'postgres', url });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const runs: WorkersRun[] = [];
  const keys = new MemberKeys(SECRET_KEY);
  const env = sharedEnv(emu, url, { TAILOR_LOG_LEVEL: 'info', TAILOR_FLUSH_INTERVAL_MS: String(FLUSH_MS), TAILOR_REFRESH_INTERVAL_MS: '3600000' });
  const setState = async (configurations: Configuration[], state: 'active' | 'needs_reauth'): Promise<void> => {
    for (const c of configurations)
      await store.setConfigurationState(c.id, state, state === 'active' ? null : 'bench: held until the workers are up', Date.now(), 'worker');
  };
  const ingest = async (id: string, from: number, count: number): Promise<void> => {
    for (let i = from; i < from + count; i += 5_000) {
      const members = Array.from({ length: Math.min(5_000, from + count - i) }, (_, j) => ({
        key: { kind: 'user_id' as const, value: `${id}-${i + j}` },
        identities: [{ kind: 'email' as const, value: `w${i + j}@${id}.example` }],
      }));
      const prepared = prepareChanges(keys, 'add', members);
      await store.applyMemberChanges(id, prepared.changes, Date.now(), prepared.counts);
    }
  };
  // This section's audiences only: the database is the run's, and an earlier section's audience
  // (the ingest section's, its X account unknown to the emulator) keeps its pending rows forever.
  const ids = Array.from({ length: opts.audiences }, (_, k) => `w${k}`);
  const OURS = 'FROM outbox o JOIN downstreams d ON d.id = o.downstream_id WHERE d.audience_id = ANY($1)';
  const pending = async (): Promise<boolean> => (await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 ${OURS}) AS any`, [ids])).rows[0]!.any;
  /** Starts `processes` workers, resumes the configurations and waits until the outbox is empty; returns the seconds from the resume. */
  const drain = async (configurations: Configuration[], processes: number, limitMs: number): Promise<number> => {
    const ingested = Date.now();
    const workers = await Promise.all(Array.from({ length: processes }, () => WorkerProcess.start(env)));
    // A backlog: every change has waited the flush interval when the clock starts.
    await new Promise((r) => setTimeout(r, Math.max(0, ingested + FLUSH_MS + 100 - Date.now())));
    const started = performance.now();
    await setState(configurations, 'active');
    try {
      while (await pending()) {
        if (performance.now() - started > limitMs) throw new Error(`the backlog did not drain in ${limitMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return (performance.now() - started) / 1000;
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }
  };
  try {
    const configurations = await putConfigurations(store, emu);
    if (configurations.length === 0) throw new Error('workers bench: the emulator has no ACCOUNT_ADMIN login');
    await setState(configurations, 'needs_reauth');
    log(`workers (PostgreSQL): ${ids.length} audiences over ${configurations.length} X accounts; creating their X audiences (not timed)`);
    for (const [k, id] of ids.entries()) {
      await store.putAudience(id, `Bench workers ${id}`, Date.now(), 'admin_token');
      await store.putConnection(
        id,
        configurations[k % configurations.length]!.id,
        { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false },
        Date.now(),
        'admin_token',
      );
      await ingest(id, 0, 1);
    }
    await drain(configurations, 1, 600_000);
    let next = 1;
    for (const processes of opts.counts) {
      await setState(configurations, 'needs_reauth');
      log(`workers (PostgreSQL): ingesting ${(opts.audiences * opts.perAudience).toLocaleString('en-US')} changes for the ${processes}-process run`);
      for (const id of ids) await ingest(id, next, opts.perAudience);
      next += opts.perAudience;
      const total = Number((await client.query<{ n: string }>(`SELECT count(*) AS n ${OURS}`, [ids])).rows[0]!.n);
      log(`workers (PostgreSQL): ${processes} process(es) draining ${total.toLocaleString('en-US')} changes`);
      const seconds = await drain(configurations, processes, 300_000);
      runs.push({
        processes,
        loopsPerProcess: 4,
        audiences: opts.audiences,
        accounts: configurations.length,
        changes: total,
        seconds,
        changesPerSecond: total / seconds,
        usersLatencyMs: opts.usersLatencyMs,
      });
    }
  } finally {
    await client.end();
    await store.close();
  }
  return runs;
}
