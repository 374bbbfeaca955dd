/**
 * The settings of issue 11: TAILOR_ALLOWED_HOSTS, TAILOR_MAX_CONNECTIONS and
 * TAILOR_REQUEST_TIMEOUT_MS are validated like every other variable (a bad value names the
 * variable; the CLI exits 2), and `tailor serve` refuses a non-loopback TAILOR_HOST without
 * TAILOR_FIREHOSE_TOKEN (before, it started and took membership changes from anyone who could
 * reach the port), while on loopback it starts and warns once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/core/config-error.ts';

function problems(env: Record<string, string>, needs: Parameters<typeof loadConfig>[1] = {}): string[] {
  try {
    loadConfig(env, needs);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const SERVE_ENV = {
  TAILOR_ADMIN_TOKEN: 'settings-admin-token-0123456789',
  TAILOR_SECRET_KEY: 'settings-secret-key-0123456789abcdef0123',
  TAILOR_X_CONSUMER_KEY: 'k',
  TAILOR_X_CONSUMER_SECRET: 's',
  TAILOR_X_API_URL: 'http://127.0.0.1:9',
  TAILOR_X_OAUTH_URL: 'http://127.0.0.1:9',
};

/** Runs `tailor serve` until it listens (then SIGTERM) or exits; its exit code and output. */
function serve(env: Record<string, string>): Promise<{ code: number | null; output: string; listened: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-settings-'));
  const child = spawn(process.execPath, ['bin/tailor.js', 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TAILOR_DATABASE_URL: `sqlite:${join(dir, 'tailor.db')}`,
      TAILOR_PORT: '0',
      TAILOR_LOG_LEVEL: 'info',
      ...SERVE_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let listened = false;
  const onData = (d: Buffer): void => {
    output += d.toString();
    if (!listened && /Tailor listening on/.test(output)) {
      listened = true;
      child.kill('SIGTERM');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output, listened });
    });
  });
}

describe('issue 11 settings', () => {
  it('TAILOR_ALLOWED_HOSTS: host names, comma-separated, lower-cased', () => {
    expect(loadConfig({}).allowedHosts).toEqual([]);
    expect(loadConfig({ TAILOR_ALLOWED_HOSTS: ' Tailor.Example.com, 10.0.0.5 ,[fd00::1],,tailor-internal,tailor_app ' }).allowedHosts).toEqual([
      'tailor.example.com',
      '10.0.0.5',
      '[fd00::1]',
      'tailor-internal',
      'tailor_app',
    ]);
    for (const bad of ['https://tailor.example.com', 'tailor.example.com:8443', 'tailor.example.com/ui', '*.example.com', 'a b', 'fd00::1', '-x.example']) {
      expect(problems({ TAILOR_ALLOWED_HOSTS: bad }), bad).toEqual([expect.stringMatching(/^TAILOR_ALLOWED_HOSTS: must be host names/)]);
    }
  });

  it('TAILOR_MAX_CONNECTIONS and TAILOR_REQUEST_TIMEOUT_MS: defaults and bounds', () => {
    const c = loadConfig({});
    expect(c.maxConnections).toBe(1000);
    expect(c.requestTimeoutMs).toBe(30_000);
    expect(loadConfig({ TAILOR_MAX_CONNECTIONS: '50', TAILOR_REQUEST_TIMEOUT_MS: '5000' })).toMatchObject({ maxConnections: 50, requestTimeoutMs: 5000 });
    expect(problems({ TAILOR_MAX_CONNECTIONS: '0', TAILOR_REQUEST_TIMEOUT_MS: '10' })).toEqual([
      expect.stringMatching(/^TAILOR_MAX_CONNECTIONS: must be at least 1/),
      expect.stringMatching(/^TAILOR_REQUEST_TIMEOUT_MS: must be at least 1000/),
    ]);
    expect(problems({ TAILOR_MAX_CONNECTIONS: 'many' })).toEqual([expect.stringMatching(/^TAILOR_MAX_CONNECTIONS: must be a whole number/)]);
  });

  it('serving off loopback needs TAILOR_FIREHOSE_TOKEN; on loopback it does not', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'tailor.internal']) {
      expect(problems({ TAILOR_HOST: host }, { serves: true }), host).toEqual([
        expect.stringMatching(/^TAILOR_FIREHOSE_TOKEN: is required when TAILOR_HOST .* is not loopback/),
      ]);
      expect(problems({ TAILOR_HOST: host, TAILOR_FIREHOSE_TOKEN: 'minted' }, { serves: true })).toEqual([]);
      expect(problems({ TAILOR_HOST: host })).toEqual([]); // `tailor worker`, `migrate`, `import` serve nothing
    }
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) expect(problems({ TAILOR_HOST: host }, { serves: true }), host).toEqual([]);
  });

  it('`tailor serve` on 0.0.0.0 without the token exits 2 naming it; on loopback it starts and warns once', async () => {
    const open = await serve({ TAILOR_HOST: '0.0.0.0' });
    expect(open.listened).toBe(false);
    expect(open.code).toBe(2);
    expect(open.output).toMatch(/Invalid configuration:\n\s+- TAILOR_FIREHOSE_TOKEN: is required when TAILOR_HOST \(0\.0\.0\.0\) is not loopback/);

    const local = await serve({ TAILOR_HOST: '127.0.0.1' });
    expect(local.listened, local.output).toBe(true);
    expect(local.output.match(/TAILOR_FIREHOSE_TOKEN is not set/g)).toHaveLength(1);

    const withToken = await serve({ TAILOR_HOST: '127.0.0.1', TAILOR_FIREHOSE_TOKEN: 'minted-token' });
    expect(withToken.listened, withToken.output).toBe(true);
    expect(withToken.output).not.toMatch(/TAILOR_FIREHOSE_TOKEN is not set/);
  });
});
