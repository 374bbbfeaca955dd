/**
 * Start-up: from spawning `tailor serve` (the compiled build, on a fresh SQLite file) to the first
 * 200 from /healthz, polled every 5 ms. Includes Node's own start, loading the code, opening the
 * database and running every migration. Bar: 500 ms (docs/reference/product.md section 4).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killedWithThisProcess, tailorEnv, type Emu } from '../test/e2e/harness.ts';
import { freePort } from './lib.ts';

export interface StartupResult {
  runs: number;
  medianMs: number;
  maxMs: number;
}

async function once(emu: Emu): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-bench-startup-'));
  const port = await freePort();
  const env = { ...tailorEnv(emu, `sqlite:${join(dir, 'tailor.db')}`), TAILOR_PORT: String(port), TAILOR_LOG_LEVEL: 'warn' };
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/tailor.js', 'serve'], { env, stdio: 'ignore' });
  killedWithThisProcess(child);
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - started;
      if (child.exitCode !== null) throw new Error(`tailor serve exited with ${child.exitCode}`);
      if (performance.now() - started > 20_000) throw new Error('tailor serve did not answer /healthz within 20 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startupBench(emu: Emu, runs: number): Promise<StartupResult> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once(emu));
  times.sort((a, b) => a - b);
  return { runs, medianMs: times[Math.floor(times.length / 2)]!, maxMs: times[times.length - 1]! };
}
