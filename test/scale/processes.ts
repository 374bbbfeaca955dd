/**
 * Tailor processes on one PostgreSQL database for the scale-out tests: `tailor serve` through the
 * end-to-end harness, `tailor worker` (which serves no HTTP, so never prints "Tailor listening")
 * through a spawn of its own that waits for the worker's start-up log line instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { TailorProcess, tailorEnv, type Emu } from '../e2e/harness.ts';

/** The environment every process of one test shares: one database, one emulator, one flush interval. */
export function sharedEnv(emu: Emu, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...tailorEnv(emu, databaseUrl),
    TAILOR_X_TIMEOUT_MS: '10000',
    TAILOR_LOG_LEVEL: 'info',
    ...extra,
  };
}

export function startServe(emu: Emu, env: Record<string, string>): Promise<TailorProcess> {
  return TailorProcess.start(emu, { env, command: 'serve' });
}

/** A `tailor worker` process. */
export class WorkerProcess {
  private output = '';

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Starts a worker and resolves once it logged that its sync loops run. */
  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    const child = spawn(process.execPath, ['bin/tailor.js', 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const worker = new WorkerProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tailor worker did not start in time:\n${worker.output}`)), 30_000);
      timer.unref();
      const check = (): void => {
        if (worker.output.includes('Tailor worker started')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', check);
      child.once('exit', (code, signal) => reject(new Error(`tailor worker exited (${code ?? signal}) before starting:\n${worker.output}`)));
    });
    return worker;
  }

  get logs(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}
