/**
 * End-to-end harness: Tailor as a real child process (`node bin/tailor.js serve`) talking HTTP to
 * the X emulator. Tests wait for states with `waitFor`, never for fixed times.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TailorClient } from 'tailor/client';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { authorization } from '../support/oauth.ts';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
export const SECRET_KEY = 'e2e-secret-key-0123456789abcdef0123456789';

export const sha = (v: string): string => createHash('sha256').update(v, 'utf8').digest('hex');

export { waitFor } from '../support/wait.ts';

export interface EmulatorUser {
  user_id: string;
  screen_name: string;
  access_token: string;
  access_token_secret: string;
  accounts: { id: string; name: string; permissions: string[] }[];
}
export interface Credentials {
  consumer_key: string;
  consumer_secret: string;
  users: EmulatorUser[];
}

/** The emulator plus helpers for its inspection and fault endpoints. */
export class Emu {
  private constructor(
    readonly running: RunningEmulator,
    readonly creds: Credentials,
  ) {}

  static async start(opts: Parameters<typeof startEmulator>[0] = {}): Promise<Emu> {
    const running = await startEmulator({ port: 0, sizingDelayMs: 60_000, ...opts });
    const creds = (await (await fetch(`${running.url}/_emulator/credentials`)).json()) as Credentials;
    return new Emu(running, creds);
  }

  get url(): string {
    return this.running.url;
  }

  /** The first login holding ACCOUNT_ADMIN, and that account. */
  admin(): { user: EmulatorUser; accountId: string } {
    for (const user of this.creds.users) {
      const account = user.accounts.find((a) => a.permissions.includes('ACCOUNT_ADMIN'));
      if (account) return { user, accountId: account.id };
    }
    throw new Error('no ACCOUNT_ADMIN login');
  }

  async get<T = any>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async post<T = any>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  faults(body: Record<string, unknown>): Promise<unknown> {
    return this.post('/_emulator/faults', body);
  }

  /** Every audience of the account, deleted ones included. */
  async audiences(accountId: string): Promise<{ id: string; name: string; description: string | null; deleted: boolean; audience_size: number | null }[]> {
    const body = await this.get<{ data: any[] } | any[]>(`/_emulator/accounts/${accountId}/custom_audiences`);
    return Array.isArray(body) ? body : body.data;
  }

  async members(accountId: string, audienceId: string): Promise<Record<string, string[]>> {
    return this.get(`/_emulator/accounts/${accountId}/custom_audiences/${audienceId}/members`);
  }

  /** A signed call as an independent X client would make it (test/support/oauth.ts), e.g. to create a name first. */
  async signed(user: EmulatorUser, method: string, path: string): Promise<Response> {
    const url = `${this.url}${path}`;
    const header = authorization(
      { key: this.creds.consumer_key, secret: this.creds.consumer_secret },
      { key: user.access_token, secret: user.access_token_secret },
      { method, url },
    );
    return fetch(url, { method, headers: { authorization: header } });
  }

  close(): Promise<void> {
    return this.running.close();
  }
}

/** What every Tailor process of a test needs: its database, the emulator as X, the test secrets. */
export function tailorEnv(emu: Emu, databaseUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    TAILOR_DATABASE_URL: databaseUrl,
    TAILOR_HOST: '127.0.0.1',
    TAILOR_PORT: '0',
    TAILOR_X_API_URL: emu.url,
    TAILOR_X_OAUTH_URL: emu.url,
    TAILOR_X_CONSUMER_KEY: emu.creds.consumer_key,
    TAILOR_X_CONSUMER_SECRET: emu.creds.consumer_secret,
    TAILOR_SECRET_KEY: SECRET_KEY,
    TAILOR_ADMIN_TOKEN: ADMIN_TOKEN,
  };
}

/**
 * Every `tailor serve` (or other command) this process started and that still runs. When this
 * process exits, for whatever reason (a bench run stopped with Ctrl-C, a crash, vitest ending a
 * worker), they are killed with it: an orphan left running skews every later measurement.
 */
const LIVE = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});

/** Registers a child this process started (any command) to be killed when this process exits (LIVE). */
export function killedWithThisProcess(child: ChildProcess): void {
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));
}

/**
 * For scripts (a bench run): SIGINT and SIGTERM end the process through `exit`, after `cleanup`,
 * so the processes above are killed too; Node's default for these signals skips exit handlers.
 */
export function exitOnSignals(cleanup: () => Promise<unknown> = async () => {}): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      void cleanup().finally(() => process.exit(code));
    });
  }
}

/** A Tailor process and its database directory. */
export class TailorProcess {
  private output = '';
  /** The typed client (`tailor/client`, as users integrate) on this process. */
  readonly client: TailorClient;
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {
    this.client = new TailorClient({ baseUrl: url, token: env.TAILOR_ADMIN_TOKEN ?? ADMIN_TOKEN });
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Starts `tailor serve` against the emulator; pass the same dir to restart on the same database. */
  static async start(emu: Emu, opts: { dir?: string; env?: Record<string, string>; command?: string } = {}): Promise<TailorProcess> {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tailor-e2e-'));
    const env: Record<string, string> = {
      ...tailorEnv(emu, `sqlite:${join(dir, 'tailor.db')}`),
      TAILOR_FLUSH_INTERVAL_MS: '200',
      TAILOR_REFRESH_INTERVAL_MS: '1000',
      TAILOR_X_TIMEOUT_MS: '5000',
      TAILOR_LOG_LEVEL: 'info',
      ...opts.env,
    };
    const child = spawn(process.execPath, ['bin/tailor.js', opts.command ?? 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    killedWithThisProcess(child);
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        out += d.toString();
        const m = /Tailor listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => reject(new Error(`tailor exited with ${code} before listening:\n${out}`)));
      // A process that never listens is killed, or it would keep the caller (a bench run) alive.
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`tailor did not start in time:\n${out}`));
      }, 20_000);
      timer.unref();
    }).finally(() => clearTimeout(timer));
    const p = new TailorProcess(child, url, dir, env);
    p.output = out;
    return p;
  }

  get logs(): string {
    return this.output;
  }

  /** A raw call, for tests that check statuses or send what the typed client would not; prefer `client`. */
  async api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Adds the emulator's admin login as a configuration; returns its id. */
  async addConfiguration(emu: Emu): Promise<string> {
    const { user, accountId } = emu.admin();
    const configuration = await this.client.addConfiguration({
      account_id: accountId,
      access_token: user.access_token,
      access_token_secret: user.access_token_secret,
    });
    return configuration.id;
  }

  async audience(id: string): Promise<any> {
    return this.client.getAudience(id);
  }

  /** The downstream audiences of the audience's first connection, by identity type. */
  async downstreams(id: string): Promise<Record<string, any>> {
    const a = await this.audience(id);
    return Object.fromEntries((a.connections[0]?.downstream_audiences ?? []).map((d: any) => [d.identity_type, d]));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve(this.child.exitCode);
      this.child.once('exit', (code) => resolve(code));
      this.child.kill(signal);
    });
  }

  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    await this.kill('SIGTERM');
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
