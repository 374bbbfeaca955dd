/**
 * The harness kills what it started: a script (a bench run) stopped with SIGTERM or SIGINT leaves
 * no `tailor serve` running behind it, where it would skew every later measurement.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from './harness.ts';

/** Whether the process runs: a zombie (dead, and its parent gone before reaping it) does not. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state follows the command's closing parenthesis in /proc/PID/stat.
    return !/\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

describe('harness: no orphan Tailor processes', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'a script stopped with %s takes its tailor serve with it',
    async (signal) => {
      const script = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/scripts/start-and-wait.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      script.stdout.on('data', (d: Buffer) => (out += d.toString()));
      script.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => script.once('exit', (code) => resolve(code)));
      await waitFor('the script to start tailor serve', async () => /TAILOR_PID \d+/.test(out) || script.exitCode !== null, 30_000);
      const pid = Number(/TAILOR_PID (\d+)/.exec(out)?.[1]);
      expect(pid, out).toBeGreaterThan(0);
      expect(running(pid)).toBe(true);
      script.kill(signal);
      expect(await exited).toBe(signal === 'SIGTERM' ? 143 : 130);
      await waitFor('tailor serve to be gone', async () => !running(pid), 10_000);
    },
    60_000,
  );
});
