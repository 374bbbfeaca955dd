/**
 * The reliability tests' shared helpers: a real `tailor serve` process with the X emulator
 * (test/e2e/harness.ts), audiences forwarding all three identity types, acknowledged requests fed
 * to the Workload model, and the checks every run ends with: X holds exactly the model's hashes,
 * each downstream audience was created once, and no raw identifier reached the disk or the logs.
 */
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Emu, TailorProcess } from '../e2e/harness.ts';
import { HASH_TYPES, type MembersRequest, type Workload } from './workload.ts';

export interface Stack {
  emu: Emu;
  tailor: TailorProcess;
  configId: string;
  accountId: string;
}

/** Settings that keep a run fast: short flush interval, short refresh, X timeout above the 2 s latency fault. */
export const FAST_ENV: Record<string, string> = {
  TAILOR_FLUSH_INTERVAL_MS: '100',
  TAILOR_REFRESH_INTERVAL_MS: '1000',
  TAILOR_X_TIMEOUT_MS: '10000',
  TAILOR_LOG_LEVEL: 'info',
};

export async function startStack(opts: { emulator?: Parameters<typeof Emu.start>[0]; env?: Record<string, string>; dir?: string } = {}): Promise<Stack> {
  const emu = await Emu.start({ populationSize: 2000, sizingDelayMs: 300, ...opts.emulator });
  try {
    const tailor = await TailorProcess.start(emu, { dir: opts.dir, env: { ...FAST_ENV, ...opts.env } });
    const configId = await tailor.addConfiguration(emu);
    return { emu, tailor, configId, accountId: emu.admin().accountId };
  } catch (err) {
    await emu.close();
    throw err;
  }
}

/** One number from Tailor's SQLite database, read beside it (WAL lets a reader in while it runs). */
export function count(dir: string, sql: string): number {
  const db = new Database(join(dir, 'tailor.db'), { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
}
/** Downstream audiences leased by a worker. */
export const leasesHeld = (dir: string): number => count(dir, 'SELECT COUNT(*) FROM downstreams WHERE lease_token IS NOT NULL');
/** Changes in a claimed batch: a users call is on its way to X, or waiting for its answer. */
export const inFlight = (dir: string): number => count(dir, 'SELECT COUNT(*) FROM outbox WHERE claim_token IS NOT NULL');

/** Creates the audiences, each connected with all three identity types forwarded. */
export async function createAudiences(tailor: TailorProcess, configId: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    expect((await tailor.api('PUT', `/audiences/${id}`, { name: `Audience ${id}` })).status).toBeLessThan(300);
    expect((await tailor.api('PUT', `/audiences/${id}/connections/${configId}`, {})).status).toBeLessThan(300);
  }
}

/**
 * Sends one members request until it is acknowledged (202), then records it in the model. A 503 or
 * a refused connection is retried as a Firehose or REST client would; anything else fails the test.
 */
export async function send(tailor: () => TailorProcess, work: Workload, audience: string, req: MembersRequest, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let status = 0;
    let detail: string;
    try {
      const res = await tailor().api('POST', `/audiences/${audience}/members`, req);
      status = res.status;
      detail = JSON.stringify(res.body).slice(0, 300);
    } catch (err) {
      detail = String(err);
    }
    if (status === 202) {
      work.ack(audience, req);
      return;
    }
    if (status !== 0 && status !== 503) throw new Error(`members request answered ${status}: ${detail}`);
    if (Date.now() > deadline) throw new Error(`members request not acknowledged in time: ${status} ${detail}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where each downstream audience stands against the model, for timeouts' messages. */
export async function diagnose(s: Stack, work: Workload, audiences: string[]): Promise<string> {
  const lines: string[] = [];
  for (const id of audiences) {
    const downs = await s.tailor.downstreams(id).catch(() => ({}) as Record<string, any>);
    const want = work.expected(id);
    for (const type of HASH_TYPES) {
      const d = downs[type];
      const got = d?.x_audience_id ? ((await s.emu.members(s.accountId, d.x_audience_id).catch((): Record<string, string[]> => ({})))[type] ?? []) : [];
      const wantSet = new Set(want[type]);
      const gotSet = new Set<string>(got);
      lines.push(
        `${id}/${type}: state=${d?.state} pending=${d?.pending} x=${got.length} want=${wantSet.size} missing=${want[type].filter((h) => !gotSet.has(h)).length} extra=${got.filter((h: string) => !wantSet.has(h)).length} next=${d?.next_attempt_at} err=${d?.last_error}`,
      );
    }
  }
  return lines.join('\n');
}

/** How long past the latest announced retry waitExact still waits for it to land. */
const PAST_RETRY_MS = 30_000;

/**
 * Waits until every downstream audience has nothing pending and X holds exactly the model's hashes.
 *
 * Under faults a downstream audience may be in backoff (a few failures in a row double its wait:
 * src/sync/backoff.ts) when `timeoutMs` runs out. That is honest waiting, not a lost change, as
 * long as the status says when it tries next: the wait then goes on until PAST_RETRY_MS past the
 * latest attempt announced for a downstream audience not yet exact, up to `timeoutMs` more. When
 * none of them has an attempt scheduled, it fails at the first deadline.
 */
export async function waitExact(s: Stack, work: Workload, audiences: string[], timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  const ceiling = started + 2 * timeoutMs;
  let deadline = started + timeoutMs;
  for (;;) {
    const { exact, nextAttempt } = await exactness(s, work, audiences);
    if (exact) return;
    const now = Date.now();
    if (now >= deadline) deadline = Math.min(ceiling, Math.max(deadline, nextAttempt + PAST_RETRY_MS));
    if (now >= deadline) {
      const waited = ((now - started) / 1000).toFixed(0);
      throw new Error(`timed out after ${waited} s waiting for X to hold exactly the acknowledged members\n${await diagnose(s, work, audiences)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether X holds exactly the model's hashes with nothing pending, and the latest retry the status announces for a downstream audience that is not exact (0: none). */
async function exactness(s: Stack, work: Workload, audiences: string[]): Promise<{ exact: boolean; nextAttempt: number }> {
  let exact = true;
  let nextAttempt = 0;
  for (const id of audiences) {
    const downs = await s.tailor.downstreams(id);
    const want = work.expected(id);
    for (const type of HASH_TYPES) {
      const d = downs[type];
      let ok = Boolean(d?.x_audience_id) && d.pending === 0;
      // X's members are read only while all so far were exact: with nothing pending, no retry is due.
      if (ok && exact) {
        const got = ((await s.emu.members(s.accountId, d.x_audience_id))[type] ?? []).slice().sort();
        ok = got.length === want[type].length && got.every((h: string, i: number) => h === want[type][i]);
      }
      if (ok) continue;
      exact = false;
      if (d?.next_attempt_at) nextAttempt = Math.max(nextAttempt, Date.parse(d.next_attempt_at));
    }
  }
  return { exact, nextAttempt };
}

/**
 * Every downstream audience exists once on X: one live audience per name, and no more creations
 * than downstream audiences (`extraCreations` allows the re-creations a test provoked).
 */
export async function expectCreatedOnce(s: Stack, audiences: string[], extraCreations = 0): Promise<void> {
  const live = (await s.emu.audiences(s.accountId)).filter((a) => !a.deleted);
  const names = live.map((a) => a.name);
  expect(new Set(names).size, 'one live X audience per name').toBe(names.length);
  for (const id of audiences) {
    for (const suffix of ['(email)', '(handle)', '(device id)']) {
      expect(
        live.filter((a) => a.name.startsWith(`Audience ${id} ${suffix}`)),
        `live X audiences for ${id} ${suffix}`,
      ).toHaveLength(1);
    }
  }
  const stats = await s.emu.get<{ audiences_created: Record<string, number> }>('/_emulator/stats');
  expect(stats.audiences_created[s.accountId], 'X audiences created').toBe(audiences.length * 3 + extraCreations);
}

/** The secrets a run must never write down: X's tokens, the admin token, the secret key. */
export function secretsOf(s: Stack): string[] {
  const { user } = s.emu.admin();
  return [user.access_token, user.access_token_secret, s.tailor.env.TAILOR_ADMIN_TOKEN!, s.tailor.env.TAILOR_SECRET_KEY!];
}

/**
 * Fails if any raw identifier of the sample (e-mails, handles, device ids and the user ids that key
 * the members), or any of the secrets, appears in any file of the directory (database, WAL) or in
 * the logs. (mpids, which these REST workloads do not send, are checked by
 * test/security/hostile-input.test.ts.)
 */
export function expectNoRawPii(dir: string, logs: string, raw: string[], secrets: string[] = []): void {
  expect(raw.length).toBeGreaterThan(0);
  raw = [...raw, ...secrets];
  const files = readdirSync(dir)
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
  expect(files.length).toBeGreaterThan(0);
  const needles = raw.map((v) => Buffer.from(v));
  for (const file of files) {
    const content = readFileSync(file);
    for (const n of needles) expect(content.includes(n), `raw identifier or secret ${n.toString()} in ${file}`).toBe(false);
  }
  for (const v of raw) expect(logs.includes(v), `raw identifier or secret ${v} in the logs`).toBe(false);
}

/** What the status showed over a run: each state and error message seen, polled while it ran. */
export class StatusWatcher {
  readonly states = new Set<string>();
  readonly configurationStates = new Set<string>();
  readonly errors = new Set<string>();
  readonly reasons = new Set<string>();
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    private readonly tailor: () => TailorProcess,
    private readonly audiences: string[],
    everyMs = 200,
  ) {
    this.done = (async () => {
      while (this.running) {
        await this.sample().catch(() => undefined);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async sample(): Promise<void> {
    const states = new Set<string>();
    const reasons = new Set<string>();
    for (const id of this.audiences) {
      const a = await this.tailor().audience(id);
      for (const c of a?.connections ?? []) {
        if (c.configuration_state)
          this.configurationStates.add(c.configuration_state + (c.configuration_state_reason ? `: ${c.configuration_state_reason}` : ''));
        for (const d of c.downstream_audiences ?? []) {
          states.add(d.state);
          for (const r of d.reasons_not_targetable ?? []) reasons.add(r);
          if (d.last_error) this.errors.add(d.last_error);
          for (const e of d.recent_errors ?? []) this.errors.add(e.message);
        }
      }
    }
    for (const st of states) this.states.add(st);
    for (const r of reasons) this.reasons.add(r);
    this.finalStates = [...states];
    this.finalReasons = [...reasons];
  }

  /** The states and reasons of the last sample (after stop: the end of the run). */
  finalStates: string[] = [];
  finalReasons: string[] = [];

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    await this.sample().catch(() => undefined);
  }

  /** One line for the results table: the states seen and the distinct errors, shortened. */
  summary(): string {
    const errors = [...new Set([...this.errors].map((e) => e.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/\d+ members/g, 'N members')))];
    const reasons = this.finalReasons.length > 0 ? ` (not targetable: ${this.finalReasons.join(', ')})` : '';
    const seenReasons = this.reasons.size > 0 ? ` (not targetable: ${[...this.reasons].join(', ')})` : '';
    return `end: ${this.finalStates.join(', ')}${reasons}; seen: ${[...this.states].join(', ')}${seenReasons}; errors: ${errors.slice(0, 3).join(' | ') || 'none'}${errors.length > 3 ? ` (+${errors.length - 3} more)` : ''}`;
  }
}
