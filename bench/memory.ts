/**
 * Memory: the resident set of `tailor import` over a 10,000,000-member file, and of `tailor serve`
 * under a sustained Firehose load (whose answer times are the Firehose bar too).
 *
 * The import runs as a user runs it (`node bin/tailor.js import FILE --audience ID`, its own
 * process, streaming) into a SQLite database whose audience has a connection with every Forward
 * toggle on, so every row is also queued for X. Its RSS is read from /proc every half second, and
 * its own peak (getrusage) is in its summary. A time budget keeps `npm run bench` under ten
 * minutes on two cores: when it runs out, the import is stopped with SIGINT (it finishes the
 * chunk in hand and exits) and the figures say how far it got.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open.ts';
import { killedWithThisProcess } from '../test/e2e/harness.ts';
import { firehoseLoad, type FirehoseLoadResult } from '../test/firehose/load.ts';
import { log, RssSampler, timed } from './lib.ts';

export interface ImportMemoryResult {
  fileRows: number;
  fileBytes: number;
  generateSeconds: number;
  rowsApplied: number;
  seconds: number;
  rowsPerSecond: number;
  completed: boolean;
  budgetSeconds: number;
  peakRssBytes: number;
  /** RSS at 10%, 25%, 50%, 75% and 100% of the run: flat means these stay close. */
  rssProfile: { atPercent: number; rssBytes: number }[];
}

export interface FirehoseMemoryResult extends FirehoseLoadResult {
  seconds: number;
  peakRssBytes: number;
  rssProfile: { atPercent: number; rssBytes: number }[];
}

function profile(sampler: RssSampler): { atPercent: number; rssBytes: number }[] {
  const s = sampler.samples;
  if (s.length === 0) return [];
  return [10, 25, 50, 75, 100].map((p) => ({ atPercent: p, rssBytes: s[Math.min(s.length - 1, Math.floor(((s.length - 1) * p) / 100))]!.rss }));
}

async function writeFile(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  out.write('user_id,email\n');
  const BLOCK = 10_000;
  for (let i = 0; i < rows; i += BLOCK) {
    let text = '';
    for (let j = i; j < Math.min(rows, i + BLOCK); j++) text += `u${j},Member${j}@Example.com\n`;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export async function importMemory(rows: number, budgetSeconds: number): Promise<ImportMemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-bench-import-'));
  try {
    const file = join(dir, 'members.csv');
    log(`memory (import): writing a ${rows.toLocaleString('en-US')}-row CSV`);
    const generated = await timed(() => writeFile(file, rows));
    const dbPath = join(dir, 'tailor.db');
    const store = await openStore({ kind: 'sqlite', path: dbPath });
    const now = Date.now();
    const { configuration } = await store.putConfiguration(
      { name: 'bench', accountId: 'bench0001', accountName: null, xUserId: null, screenName: null, tokens: 'unused' },
      now,
      'cli',
    );
    await store.putAudience('import', 'Bench import', now, 'admin_token');
    await store.putConnection(
      'import',
      configuration.id,
      { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false },
      now,
      'admin_token',
    );
    await store.close();

    log(`memory (import): tailor import, budget ${budgetSeconds > 0 ? `${budgetSeconds} s` : 'none'}`);
    const child = spawn(process.execPath, ['bin/tailor.js', 'import', file, '--audience', 'import', '--json'], {
      // An import keys the rows' user ids with the server's secret; any will do for the bench.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        TAILOR_DATABASE_URL: `sqlite:${dbPath}`,
        TAILOR_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killedWithThisProcess(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const lines = d.toString().trim().split('\n');
      log(`  ${lines[lines.length - 1]}`);
    });
    const sampler = new RssSampler(child.pid!, 500);
    const started = performance.now();
    const budget = budgetSeconds > 0 ? setTimeout(() => child.kill('SIGINT'), budgetSeconds * 1000) : null;
    const [code] = (await once(child, 'exit')) as [number | null];
    const seconds = (performance.now() - started) / 1000;
    if (budget) clearTimeout(budget);
    sampler.stop();
    if (code !== 0 && code !== 130) throw new Error(`tailor import exited with ${code}: ${stderr}`);
    const summary = JSON.parse(stdout) as { accepted: number; interrupted: boolean; max_rss_bytes: number };
    return {
      fileRows: rows,
      fileBytes: statSync(file).size,
      generateSeconds: generated.seconds,
      rowsApplied: summary.accepted,
      seconds,
      rowsPerSecond: summary.accepted / seconds,
      completed: !summary.interrupted,
      budgetSeconds,
      peakRssBytes: Math.max(sampler.peak, summary.max_rss_bytes),
      rssProfile: profile(sampler),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function firehoseRun(opts: { requests: number; concurrency: number; ratePerSecond?: number }): Promise<FirehoseMemoryResult> {
  let sampler: RssSampler | null = null;
  const run = await timed(() => firehoseLoad({ ...opts, onStarted: (tailor) => (sampler = new RssSampler(tailor.child.pid!, 250)) }));
  const s = sampler as RssSampler | null;
  s?.stop();
  return { ...run.value, seconds: run.seconds, peakRssBytes: s?.peak ?? NaN, rssProfile: s ? profile(s) : [] };
}

/**
 * Two runs, each on a fresh `tailor serve`: back to back from `concurrency` senders (the most it
 * takes: throughput and memory under pressure), then paced at half that throughput for
 * `pacedSeconds` (a sustained load below capacity: the answer-time bar).
 */
export async function firehoseMemory(
  requests: number,
  concurrency: number,
  pacedSeconds: number,
): Promise<{ saturated: FirehoseMemoryResult; paced: FirehoseMemoryResult }> {
  log(`Firehose: ${requests} requests of 100 profiles, back to back from ${concurrency} senders`);
  const saturated = await firehoseRun({ requests, concurrency });
  const rate = Math.max(1, Math.round(saturated.changesPerSecond / saturated.profilesPerRequest / 2));
  log(`Firehose: paced at ${rate} requests/s (half of that) for ${pacedSeconds} s`);
  const paced = await firehoseRun({ requests: rate * pacedSeconds, concurrency, ratePerSecond: rate });
  return { saturated, paced };
}
