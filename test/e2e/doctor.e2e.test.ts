/**
 * `tailor doctor` as shipped (bin/tailor.js): exit 0 with nothing failing, 1 with a check failing,
 * the report in words or as JSON, and the database left as it was.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, tailorEnv } from './harness.ts';

const BIN = resolve('bin/tailor.js');

function doctor(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'doctor', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (status) => done({ status, stdout, stderr }));
  });
}

describe('tailor doctor', () => {
  let emu: Emu;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    emu = await Emu.start();
    dir = mkdtempSync(join(tmpdir(), 'tailor-doctor-e2e-'));
    // A database as `tailor serve` leaves it, with the admin login's configuration.
    const tailor = await TailorProcess.start(emu, { dir });
    await tailor.addConfiguration(emu);
    await tailor.stop({ keepDir: true });
    env = { ...tailorEnv(emu, `sqlite:${join(dir, 'tailor.db')}`), TAILOR_FIREHOSE_TOKEN: 'doctor-e2e-firehose' };
  });
  afterAll(async () => {
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 on a good setup, with every check in words', async () => {
    const r = await doctor([], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok {4}X app: X accepted/m);
    expect(r.stdout).toMatch(/^ok {4}Configuration “.*”/m);
    expect(r.stdout).toMatch(/No check failed/);
  });

  it('exits 1 and names the check with --json for scripts when the consumer secret is wrong', async () => {
    const r = await doctor(['--json'], { ...env, TAILOR_X_CONSUMER_SECRET: 'wrong' });
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c: any) => c.status === 'fail').map((c: any) => c.id)).toEqual(['x.app']);
  });

  it('exits 1 naming the configuration whose token X revoked, with what to do', async () => {
    const { user } = emu.admin();
    await emu.faults({ revoke_tokens: [user.access_token] });
    try {
      const r = await doctor(['--json'], env);
      expect(r.status).toBe(1);
      const failed = JSON.parse(r.stdout).checks.filter((c: any) => c.status === 'fail');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ id: expect.stringMatching(/^configuration\./), fix: expect.stringMatching(/^Re-authorize it in Setup › Outputs/) });
      expect(failed[0].detail).toMatch(/revoked or is no longer valid/);
    } finally {
      await emu.faults({ restore_tokens: [user.access_token] });
    }
  });

  it('exits 1 naming the clock, with what to do, when this machine is 10 minutes off X', async () => {
    await emu.post('/_emulator/config', { clock_skew_ms: -600_000 });
    try {
      const r = await doctor([], env);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/^FAIL {2}Clock: This machine's clock is (59\d|6\d\d)\.\d s ahead of X: X refuses OAuth signatures that far off\.$/m);
      expect(r.stdout).toMatch(/^ {6}→ Sync the clock with NTP/m);
      expect(r.stdout).toMatch(/^FAIL {2}X app: X refused the app's signature .*clock/m);
    } finally {
      await emu.post('/_emulator/config', { clock_skew_ms: 0 });
    }
    expect((await doctor([], env)).status).toBe(0);
  });
});
