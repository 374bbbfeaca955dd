/**
 * The setup checks (src/doctor/checks.ts) against the X emulator and real databases: a good setup
 * passes, and each broken setting fails the check that names it, with what to do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/core/secret-box.ts';
import { runDoctor, type DoctorReport } from '../../src/doctor/checks.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { openStore } from '../../src/store/open.ts';
import { probeDatabase } from '../../src/store/probe.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { migrate } from '../../src/store/sqlite/open.ts';
import { sealTokens } from '../../src/sync/tokens.ts';
import { createTestDatabase } from '../store/pg.ts';

const SECRET = 'doctor-secret-key-0123456789abcdef0123456789';
interface User {
  user_id: string;
  screen_name: string;
  access_token: string;
  access_token_secret: string;
  accounts: { id: string; permissions: string[] }[];
}
let emu: RunningEmulator;
let creds: { consumer_key: string; consumer_secret: string; users: User[] };
let dir: string;
const user = (name: string): User => creds.users.find((u) => u.screen_name === name)!;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, sizingDelayMs: 60_000 });
  creds = (await (await fetch(`${emu.url}/_emulator/credentials`)).json()) as typeof creds;
  dir = mkdtempSync(join(tmpdir(), 'tailor-doctor-'));
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

function env(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    TAILOR_DATABASE_URL: databaseUrl,
    TAILOR_X_API_URL: emu.url,
    TAILOR_X_OAUTH_URL: emu.url,
    TAILOR_X_CONSUMER_KEY: creds.consumer_key,
    TAILOR_X_CONSUMER_SECRET: creds.consumer_secret,
    TAILOR_SECRET_KEY: SECRET,
    TAILOR_ADMIN_TOKEN: 'doctor-admin-token-0123456789',
    TAILOR_FIREHOSE_TOKEN: 'doctor-firehose-token',
    ...extra,
  };
}

/** A migrated SQLite database holding one configuration per (login, account) given. */
async function database(name: string, logins: [string, string][]): Promise<string> {
  const path = join(dir, `${name}.db`);
  const store = SqliteStore.open(path);
  const box = new SecretBox(SECRET);
  for (const [screenName, accountId] of logins) {
    const u = user(screenName);
    await store.putConfiguration(
      {
        name: `${screenName} on ${accountId}`,
        accountId,
        accountName: null,
        xUserId: u.user_id,
        screenName,
        tokens: sealTokens(box, { accessToken: u.access_token, accessTokenSecret: u.access_token_secret }),
      },
      Date.now(),
      'cli',
    );
  }
  await store.close();
  return `sqlite:${path}`;
}

const doctor = (e: NodeJS.ProcessEnv): Promise<DoctorReport> =>
  runDoctor({
    env: e,
    probe: probeDatabase,
    configurations: async (config) => {
      const store = await openStore(config.database);
      try {
        return await store.listConfigurations();
      } finally {
        await store.close();
      }
    },
  });

const emulatorConfig = async (body: unknown): Promise<void> => {
  const res = await fetch(`${emu.url}/_emulator/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
};

const failed = (r: DoctorReport): string[] => r.checks.filter((c) => c.status === 'fail').map((c) => c.id);
const check = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

describe('tailor doctor', () => {
  it('passes a good setup: every check runs and none fails', async () => {
    const admin = user('ads_admin');
    const url = await database('good', [['ads_admin', admin.accounts[0]!.id]]);
    const r = await doctor(env(url));
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    for (const id of [
      'env',
      'database.reachable',
      'database.migrations',
      'database.writable',
      'database.disk',
      'x.app',
      'x.clock',
      'firehose.token',
      'public_url',
    ])
      expect(check(r, id)?.status, id).toBe('pass');
    const config = r.checks.filter((c) => c.id.startsWith('configuration.'));
    expect(config).toHaveLength(1);
    expect(config[0]!.status).toBe('pass');
    // No webhook configured: a warning, not a failure.
    expect(check(r, 'webhook')?.status).toBe('warn');
  });

  it('names a wrong consumer secret, says what to do, and checks no configuration against it', async () => {
    const url = await database('secret', [['ads_admin', user('ads_admin').accounts[0]!.id]]);
    const r = await doctor(env(url, { TAILOR_X_CONSUMER_SECRET: 'not-the-secret' }));
    expect(r.ok).toBe(false);
    expect(failed(r)).toEqual(['x.app']);
    expect(check(r, 'x.app')!.detail).toMatch(/consumer key and secret do not match/);
    expect(check(r, 'x.app')!.fix).toMatch(/TAILOR_X_CONSUMER_SECRET/);
  });

  it('names a callback URL the X app has not registered, and passes once it is', async () => {
    const url = await database('callback', []);
    const config = (body: unknown) =>
      fetch(`${emu.url}/_emulator/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await config({ callback_urls: ['https://tailor.example.com/oauth/x/callback'] });
    try {
      const wrong = await doctor(env(url, { TAILOR_PUBLIC_URL: 'https://tailor.example.org' }));
      expect(failed(wrong)).toEqual(['x.app']);
      expect(check(wrong, 'x.app')!.detail).toMatch(/Callback URL not approved/);
      expect(check(wrong, 'x.app')!.fix).toContain('https://tailor.example.org/oauth/x/callback');
      const right = await doctor(env(url, { TAILOR_PUBLIC_URL: 'https://tailor.example.com' }));
      expect(check(right, 'x.app')!.status).toBe('pass');
    } finally {
      await config({ callback_urls: null });
    }
  });

  it('fails a clock far off X’s, says what to do, and blames neither the app’s credentials nor the configurations', async () => {
    const url = await database('clock-far', [['ads_admin', user('ads_admin').accounts[0]!.id]]);
    // X's clock 10 minutes behind: this machine is 10 minutes ahead, past X's ±5 minutes.
    await emulatorConfig({ clock_skew_ms: -600_000 });
    try {
      const r = await doctor(env(url));
      expect(r.ok).toBe(false);
      const clock = check(r, 'x.clock')!;
      expect(clock.status).toBe('fail');
      expect(clock.detail).toMatch(/^This machine's clock is (59\d|6\d\d)\.\d s ahead of X: X refuses OAuth signatures that far off\.$/);
      expect(clock.fix).toMatch(/NTP/);
      // X refused the request_token signature because of the clock: said so, not "wrong secret".
      expect(check(r, 'x.app')!.status).toBe('fail');
      expect(check(r, 'x.app')!.detail).toMatch(/clock/);
      expect(check(r, 'x.app')!.detail).not.toMatch(/do not match/);
      expect(check(r, 'x.app')!.fix).toMatch(/Sync the clock/);
      const config = r.checks.filter((c) => c.id.startsWith('configuration.'));
      expect(config.map((c) => [c.status, c.fix])).toEqual([['warn', 'Fix the clock check first.']]);
    } finally {
      await emulatorConfig({ clock_skew_ms: 0 });
    }
  });

  it('warns on a clock a minute off (X still accepts it) and passes with none', async () => {
    const url = await database('clock-near', [['ads_admin', user('ads_admin').accounts[0]!.id]]);
    await emulatorConfig({ clock_skew_ms: 60_000 });
    try {
      const r = await doctor(env(url));
      expect(r.ok).toBe(true);
      expect(failed(r)).toEqual([]);
      const clock = check(r, 'x.clock')!;
      expect(clock.status).toBe('warn');
      expect(clock.detail).toMatch(/^This machine's clock is (59|6\d)\.\d s behind X\.$/);
      expect(clock.fix).toMatch(/NTP/);
      expect(check(r, 'x.app')!.status).toBe('pass');
    } finally {
      await emulatorConfig({ clock_skew_ms: 0 });
    }
    const none = await doctor(env(url));
    expect(check(none, 'x.clock')).toMatchObject({ status: 'pass', fix: null });
    expect(check(none, 'x.clock')!.detail).toMatch(/within [12] s of X's/);
  });

  it('names a configuration whose token X revoked', async () => {
    const admin = user('ads_admin');
    const url = await database('revoked', [['ads_admin', admin.accounts[0]!.id]]);
    await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ revoke_tokens: [admin.access_token] }),
    });
    try {
      const r = await doctor(env(url));
      expect(r.ok).toBe(false);
      const [id] = failed(r);
      expect(failed(r)).toHaveLength(1);
      expect(id).toMatch(/^configuration\./);
      expect(check(r, id!)!.detail).toMatch(/revoked or is no longer valid/);
      expect(check(r, id!)!.fix).toMatch(/Re-authorize/);
    } finally {
      await fetch(`${emu.url}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ restore_tokens: [admin.access_token] }),
      });
    }
  });

  it('names a configuration whose login is no longer ACCOUNT_ADMIN (analyst only)', async () => {
    const analyst = user('ads_analyst');
    const url = await database('analyst', [['ads_analyst', analyst.accounts[0]!.id]]);
    const r = await doctor(env(url));
    expect(r.ok).toBe(false);
    const [id] = failed(r);
    expect(failed(r)).toHaveLength(1);
    expect(check(r, id!)!.detail).toContain('CAMPAIGN_ANALYST');
    expect(check(r, id!)!.detail).toContain('not ACCOUNT_ADMIN');
  });

  it('names a database that cannot be written (PostgreSQL, read-only), and reads no configuration from it', async () => {
    const db = await createTestDatabase();
    try {
      await (await openStore({ kind: 'postgres', url: db.url })).close();
      const name = new URL(db.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
      await admin.end();
      const r = await doctor(env(db.url));
      expect(r.ok).toBe(false);
      expect(failed(r)).toEqual(['database.writable']);
      expect(check(r, 'database.writable')!.detail).toMatch(/read-only transaction/);
      expect(r.checks.some((c) => c.id.startsWith('configuration'))).toBe(false);
    } finally {
      await db.drop();
    }
  });

  it('names a database with migrations not applied, and one that does not exist', async () => {
    const missing = await doctor(env(`sqlite:${join(dir, 'nowhere', 'none.db')}`));
    expect(failed(missing)).toEqual(['database.reachable']);
    expect(check(missing, 'database.reachable')!.fix).toMatch(/tailor migrate/);

    // A database an older Tailor left (migrations up to 0008): named, and left as it was.
    const path = join(dir, 'old.db');
    const db = new Database(path);
    migrate(db, {}, 8);
    db.close();
    const old = await doctor(env(`sqlite:${path}`));
    expect(failed(old)).toEqual(['database.migrations']);
    expect(check(old, 'database.migrations')!.detail).toMatch(/not applied \(.*13/);
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(8);
    after.close();
  });

  it('names each bad or missing variable, and the Firehose token off loopback', async () => {
    const url = await database('env', []);
    const r = await doctor(env(url, { TAILOR_HOST: '0.0.0.0', TAILOR_FIREHOSE_TOKEN: '', TAILOR_ADMIN_TOKEN: '', TAILOR_FLUSH_INTERVAL_MS: 'soon' }));
    expect(r.ok).toBe(false);
    expect(failed(r).sort()).toEqual(['env.TAILOR_ADMIN_TOKEN', 'env.TAILOR_FIREHOSE_TOKEN', 'env.TAILOR_FLUSH_INTERVAL_MS']);
    for (const id of ['env.TAILOR_ADMIN_TOKEN', 'env.TAILOR_FIREHOSE_TOKEN', 'env.TAILOR_FLUSH_INTERVAL_MS'])
      expect(check(r, id)!.fix, id).toMatch(new RegExp(`^Set ${id.slice(4)} as the README's environment table says`));
    expect(check(r, 'env.TAILOR_FIREHOSE_TOKEN')!.detail).toMatch(/when TAILOR_HOST \(0\.0\.0\.0\) is not loopback/);
    // With the rest valid, the Firehose check itself names the exposure and what to do.
    const exposed = await doctor(env(url, { TAILOR_HOST: '0.0.0.0', TAILOR_FIREHOSE_TOKEN: '', TAILOR_PUBLIC_URL: 'https://tailor.example.com' }));
    const firehose = check(exposed, 'firehose.token')!;
    expect(firehose.status).toBe('fail');
    expect(firehose.detail).toMatch(/TAILOR_HOST is 0\.0\.0\.0, not loopback, and TAILOR_FIREHOSE_TOKEN is not set/);
    expect(firehose.fix).toMatch(/Set TAILOR_FIREHOSE_TOKEN .* API key of the Tailor output in mParticle/);
    // On loopback a missing token only warns; a set one passes.
    expect(check(await doctor(env(url, { TAILOR_FIREHOSE_TOKEN: '' })), 'firehose.token')!.status).toBe('warn');
    expect(check(await doctor(env(url)), 'firehose.token')!.status).toBe('pass');
  });

  it('checks TAILOR_PUBLIC_URL against the host and the callback', async () => {
    const url = await database('public-url', []);
    const withPath = check(await doctor(env(url, { TAILOR_PUBLIC_URL: 'https://example.com/tailor' })), 'public_url')!;
    expect(withPath).toMatchObject({ status: 'fail', fix: 'Set TAILOR_PUBLIC_URL to the scheme, host and port only.' });
    expect(withPath.detail).toMatch(/has a path \(\/tailor\)/);
    const plain = check(await doctor(env(url, { TAILOR_PUBLIC_URL: 'http://tailor.example.com' })), 'public_url')!;
    expect(plain.status).toBe('warn');
    expect(plain.fix).toMatch(/HTTPS/);
    const unset = check(await doctor(env(url, { TAILOR_HOST: '0.0.0.0' })), 'public_url')!;
    expect(unset.status).toBe('warn');
    expect(unset.fix).toMatch(/register <that>\/oauth\/x\/callback in the X app/);
    const good = await doctor(env(url, { TAILOR_PUBLIC_URL: 'https://tailor.example.com' }));
    expect(check(good, 'public_url')).toMatchObject({ status: 'pass', detail: expect.stringContaining('https://tailor.example.com/oauth/x/callback') });
    // The callback it names is the one the X app check asked X to confirm.
    expect(check(good, 'x.app')!.detail).toContain('confirmed the callback https://tailor.example.com/oauth/x/callback');
  });

  it('names an app X has not approved for the Ads API, and an Ads API that does not answer', async () => {
    const url = await database('ads-api', [['ads_admin', user('ads_admin').accounts[0]!.id]]);
    await emulatorConfig({ ads_api_access: false });
    try {
      const r = await doctor(env(url));
      expect(failed(r)).toHaveLength(1);
      const c = check(r, failed(r)[0]!)!;
      expect(c.id).toMatch(/^configuration\./);
      expect(c.detail).toBe('X says the app has no Ads API access (UNAUTHORIZED_CLIENT_APPLICATION).');
      expect(c.fix).toMatch(/Apply for Ads API access .* up to 3 business days/);
      expect(check(r, 'x.app')!.status).toBe('pass'); // the app's OAuth works without Ads API access
    } finally {
      await emulatorConfig({ ads_api_access: true });
    }
    await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error_rate: 1 }) });
    try {
      const r = await doctor(env(url));
      const c = check(r, failed(r)[0]!)!;
      expect(failed(r)).toHaveLength(1);
      expect(c.detail).toMatch(/^Could not reach the Ads API: /);
      expect(c.fix).toMatch(/TAILOR_X_API_URL/);
    } finally {
      await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reset: true }) });
    }
  });

  it('warns when disk beside the database runs low, and fails when nearly full', async () => {
    const url = await database('disk', []);
    // The real probe, with the free space it measured replaced: no test fills a disk.
    const withFree = (freeBytes: number) =>
      runDoctor({ env: env(url), probe: async (t) => ({ ...(await probeDatabase(t)), freeBytes }), configurations: async () => [] });
    const low = check(await withFree(500 * 1024 ** 2), 'database.disk')!;
    expect(low).toMatchObject({ status: 'warn', detail: '0.5 GiB free beside the database.' });
    expect(low.fix).toMatch(/Free disk space or move the database/);
    const full = await withFree(50 * 1024 ** 2);
    expect(check(full, 'database.disk')).toMatchObject({ status: 'fail', fix: 'Free disk space now: writes fail when it runs out.' });
    expect(full.ok).toBe(false);
    expect(check(await withFree(5 * 1024 ** 3), 'database.disk')!.status).toBe('pass');
  });
});
