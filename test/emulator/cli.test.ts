/** `tailor emulator` as a process: prints its URL, answers, takes the app keys from the environment, stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { getJson } from './helpers.ts';
import { waitFor } from '../support/wait.ts';

describe('tailor emulator', () => {
  it('starts, answers /_emulator/credentials and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/tailor.js', 'emulator', '--port', '0', '--population', '100', '--seed', '7'], {
      env: { ...process.env, TAILOR_X_CONSUMER_KEY: 'cli-key', TAILOR_X_CONSUMER_SECRET: 'cli-secret' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      const url = await waitFor('the emulator URL', async () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 20_000);
      const creds = await getJson(`${url}/_emulator/credentials`);
      expect(creds.consumer_key).toBe('cli-key');
      expect(creds.consumer_secret).toBe('cli-secret');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses a bad flag with exit code 2', async () => {
    const child = spawn(process.execPath, ['bin/tailor.js', 'emulator', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toContain('--port');
  });
});
