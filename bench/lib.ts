/** Small helpers the benchmark sections share: timing, percentiles, formatting, RSS sampling. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const sha = (v: string): string => createHash('sha256').update(v, 'utf8').digest('hex');

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
export const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
export const mb = (bytes: number): string => `${int(bytes / (1024 * 1024))} MB`;

/** Runs fn and returns its result with the seconds it took. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

/** Resident set size of a process, now and at its peak (Linux /proc). */
export function rssOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    // A process that is exiting (or a zombie) has no memory lines: no sample rather than NaN.
    return Number.isFinite(rss) && Number.isFinite(peak) ? { rss, peak } : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; keeps every sample (time, rss) and the peak. */
export class RssSampler {
  readonly samples: { at: number; rss: number }[] = [];
  peak = 0;
  private timer: NodeJS.Timeout;
  private readonly started = Date.now();

  constructor(
    private readonly pid: number,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  private sample(): void {
    const r = rssOf(this.pid);
    if (!r) return;
    this.samples.push({ at: Date.now() - this.started, rss: r.rss });
    this.peak = Math.max(this.peak, r.peak, r.rss);
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it), for a process that must be told its port. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
