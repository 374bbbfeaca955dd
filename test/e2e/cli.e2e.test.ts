import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, Emu, SECRET_KEY, waitFor } from './harness.ts';

const BIN = resolve('bin/tailor.js');
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tailor-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the command to its end without blocking this process (the emulator answers from here). */
function tailor(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('the tailor command', () => {
  it('rejects a bad environment with one message naming every bad variable, and exit code 2', async () => {
    const r = await tailor(['serve'], { TAILOR_PORT: 'eighty', TAILOR_FLUSH_INTERVAL_MS: '-5', TAILOR_DATABASE_URL: 'mysql://x' });
    expect(r.status).toBe(2);
    for (const name of ['TAILOR_PORT', 'TAILOR_FLUSH_INTERVAL_MS', 'TAILOR_DATABASE_URL', 'TAILOR_ADMIN_TOKEN', 'TAILOR_SECRET_KEY', 'TAILOR_X_CONSUMER_KEY']) {
      expect(r.stderr).toContain(name);
    }
    expect(r.stderr.trim().startsWith('tailor: Invalid configuration')).toBe(true);
  });

  it('migrate creates the database and is idempotent', async () => {
    const dir = tempDir();
    const env = { TAILOR_DATABASE_URL: `sqlite:${join(dir, 'db', 'tailor.db')}` };
    expect(await tailor(['migrate'], env)).toMatchObject({ status: 0, stdout: 'Database is up to date.\n' });
    expect((await tailor(['migrate'], env)).status).toBe(0);
  });

  it('configurations add validates the tokens against X, refuses a login without ACCOUNT_ADMIN, and exits 75 while X is unreachable', async () => {
    const emu = await Emu.start();
    try {
      const dir = tempDir();
      const env = {
        TAILOR_DATABASE_URL: `sqlite:${join(dir, 'tailor.db')}`,
        TAILOR_X_API_URL: emu.url,
        TAILOR_X_OAUTH_URL: emu.url,
        TAILOR_X_CONSUMER_KEY: emu.creds.consumer_key,
        TAILOR_X_CONSUMER_SECRET: emu.creds.consumer_secret,
        TAILOR_SECRET_KEY: SECRET_KEY,
      };
      const { user, accountId } = emu.admin();
      const ok = await tailor(
        ['configurations', 'add', '--account-id', accountId, '--access-token', user.access_token, '--access-token-secret', user.access_token_secret],
        env,
      );
      expect(ok.stderr).toBe('');
      expect(ok).toMatchObject({ status: 0 });
      expect(ok.stdout).toMatch(new RegExp(`^Added configuration \\S+ for account ${accountId}`));
      const analyst = emu.creds.users.find((u) => u.accounts.every((a) => !a.permissions.includes('ACCOUNT_ADMIN')))!;
      const account = analyst.accounts[0]!;
      const refused = await tailor(
        ['configurations', 'add', '--account-id', account.id, '--access-token', analyst.access_token, '--access-token-secret', analyst.access_token_secret],
        env,
      );
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/ACCOUNT_ADMIN/);
      // X unreachable is not the input's fault: EX_TEMPFAIL, so a script knows to try again.
      await emu.faults({ error_every: 1, error_status: 503 });
      const later = await tailor(
        ['configurations', 'add', '--account-id', accountId, '--access-token', user.access_token, '--access-token-secret', user.access_token_secret],
        env,
      );
      expect(later.status).toBe(75);
      expect(later.stderr).toMatch(/^tailor: Could not reach X to check the tokens: /);
    } finally {
      await emu.close();
    }
  });

  it('npm start (tailor demo) shows audiences reaching the emulator within seconds, and stops on SIGTERM', async () => {
    const cwd = tempDir();
    const child = spawn(process.execPath, [BIN, 'demo'], { cwd, env: { PATH: process.env.PATH ?? '', TAILOR_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let code: number | null | undefined;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await waitFor('the demo to start', async () => /Web UI and API\s+(\S+)\//.exec(out)?.[1], 30_000);
      await waitFor('members sent to X', async () => /Cart abandoners\s+\d+ members \| email: [1-9]\d* sent/.test(out), 30_000);
      const token = /admin token: (\w+)/.exec(out)![1]!;
      expect(token).not.toBe(ADMIN_TOKEN);
      const res = await fetch(`${url}/api/v1/audiences/cart-abandoners`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { connections: { downstream_audiences: { name: string; members: number }[] }[] };
      expect(body.connections[0]!.downstream_audiences.map((d) => d.name)).toEqual([
        'Cart abandoners (email)',
        'Cart abandoners (handle)',
        'Cart abandoners (device id)',
      ]);
      // One sample audience stays below X's 100 while members come and go, so the demo shows the
      // TOO_SMALL case: X sizes it (5 s in the demo) and says it is too small to target.
      type Small = { members: number; connections: { downstream_audiences: { identity_type: string; reasons_not_targetable: string[] }[] }[] };
      const small = async () =>
        (await (await fetch(`${url}/api/v1/audiences/beta-testers`, { headers: { authorization: `Bearer ${token}` } })).json()) as Small;
      await waitFor(
        'Beta testers sized by X as too small',
        async () => (await small()).connections[0]?.downstream_audiences.find((d) => d.identity_type === 'email')?.reasons_not_targetable.includes('TOO_SMALL'),
        60_000,
      );
      expect((await small()).members).toBeLessThan(100);
    } finally {
      code = await new Promise<number | null>((resolve) => {
        child.once('exit', (c) => resolve(c));
        child.kill('SIGTERM');
      });
    }
    // After the block, so a failure above is reported as itself; with the demo's words if it exits badly.
    expect(code, `the demo's last output:\n${out.slice(-3000)}`).toBe(0);
  });
});
