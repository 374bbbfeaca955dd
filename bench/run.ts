/**
 * `npm run bench`: every figure of docs/reference/product.md section 4 from one run on this machine, printed and
 * written to docs/benchmarks.md (docs/benchmarks.md says how each is measured).
 *
 *   npm run bench                      the full run (about ten minutes on two cores)
 *   npm run bench -- --quick           small sizes, a minute or two: checks the benchmark itself
 *   npm run bench -- --import-budget 0 --import-rows 10000000   the whole 10M import, however long
 *   npm run bench -- --no-write        print only
 *   npm run bench -- --only workers    some sections (startup, hashing, ingest, packing, engine, firehose, e2e, import, workers, serves, storage, status-list); never written
 *   npm run bench -- --only status-list --status-audiences 1000   the audience list with fewer audiences
 *   npm run bench -- --only storage    bytes per member at the bar's 1,000,000 members (about 12 minutes);
 *                                      the full run measures 100,000 (--storage-members N for another size)
 *
 * Sections run one after another, never in parallel (two cores): each would slow the others.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emu, exitOnSignals, TailorProcess } from '../test/e2e/harness.ts';
import { createTestDatabase, postgresAvailable } from '../test/store/pg.ts';
import { hashingBench, type HashingResult } from './hashing.ts';
import { postgresIngest, sqliteIngest, type IngestResult } from './ingest.ts';
import { latencyBench, type LatencyResult } from './latency.ts';
import { log } from './lib.ts';
import { machine } from './machine.ts';
import { startupBench, type StartupResult } from './startup.ts';
import { execFileSync } from 'node:child_process';
import { e2eBench, type E2eResult } from './e2e.ts';
import { firehoseMemory, importMemory, type ImportMemoryResult } from './memory.ts';
import { backlogDbPath, engineBacklog, packingBench, prepareBacklog, type EngineBacklogResult, type PackingResult } from './packing.ts';
import { renderReport, type Results } from './report.ts';
import { servesBench, type ServesRun } from './serves.ts';
import { workersBench, type WorkersRun } from './workers.ts';
import { postgresStorage, sqliteStorage, type StorageResult } from './storage.ts';
import { statusListBench, type StatusListResult } from './status-list.ts';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const quick = flag('--quick');
const only = args.includes('--only') ? new Set((args[args.indexOf('--only') + 1] ?? '').split(',')) : null;
const wanted = (name: string): boolean => only === null || only.has(name);

/** Sizes: each chosen so the whole run stays under ten minutes on the project's 2-core machine. */
const SIZES = {
  hashing: quick ? 100_000 : 1_000_000,
  sqliteMembers: quick ? 10_000 : 100_000,
  postgresMembers: quick ? 5_000 : 50_000,
  packing: quick ? 100_000 : 1_000_000,
  backlog: quick ? 100_000 : 1_000_000,
  latencySeconds: quick ? 10 : 30,
  firehoseRequests: quick ? 200 : 1_000,
  firehosePacedSeconds: quick ? 8 : 30,
  importRows: option('--import-rows', quick ? 300_000 : 10_000_000),
  importBudget: option('--import-budget', quick ? 60 : 240),
  workerAudiences: option('--worker-audiences', quick ? 16 : 96),
  workerPerAudience: quick ? 500 : 1_000,
  servesMembers: option('--serves-members', quick ? 10_000 : 50_000),
  workerCounts: quick ? [1, 2] : [1, 2, 4],
  e2eMembers: option('--e2e-members', quick ? 10_000 : 100_000),
  // The bar's 1,000,000 take about 12 minutes on two cores (both dialects), more than the whole
  // run's budget: `--only storage` alone measures the bar's size, the full run 100,000 (and says so).
  storageMembers: option('--storage-members', quick ? 20_000 : only?.size === 1 && only.has('storage') ? 1_000_000 : 100_000),
  statusAudiences: option('--status-audiences', quick ? 1_000 : 10_000),
  statusSeconds: quick ? 10 : 30,
};
/** Browser tabs polling the audience list during the status-list run: the bar's five. */
const STATUS_TABS = 5;
/** Added by the emulator to every users call in the workers run: a distant X, where sync time is waiting (issue 13, speed 6). */
const WORKERS_USERS_LATENCY_MS = 300;
/** The flush interval of the latency run: small, so the figure shows Tailor's overhead above it. */
const FLUSH_MS = 1_000;

async function section<T>(name: string, errors: Record<string, string>, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    errors[name] = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    log(`${name} failed: ${errors[name]}`);
    return null;
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const errors: Record<string, string> = {};
  const pgUp = await postgresAvailable();
  const pgDb = pgUp ? await createTestDatabase() : null;
  // Ctrl-C or a kill: drop the throwaway database rather than leave it behind, and exit, which
  // kills every Tailor process the run started (test/e2e/harness.ts).
  exitOnSignals(async () => pgDb?.drop());
  try {
    const m = await machine(`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`, pgDb?.url ?? null);
    log(`${m.cpu}, ${m.cores} cores, Node ${m.node}, commit ${m.commit}, load ${m.loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);

    // Every process the benchmark starts runs the compiled build, as users run it.
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    const startup = !wanted('startup')
      ? null
      : await section<StartupResult>('startup', errors, async () => {
          const emu = await Emu.start();
          try {
            return await startupBench(emu, quick ? 3 : 9);
          } finally {
            await emu.close();
          }
        });
    const hashing = wanted('hashing') ? await section<HashingResult>('hashing', errors, () => hashingBench(SIZES.hashing)) : null;
    const ingest: IngestResult[] = [];
    const sqlite = wanted('ingest') ? await section('ingest (SQLite)', errors, () => sqliteIngest(SIZES.sqliteMembers)) : null;
    if (sqlite) ingest.push(sqlite);
    if (pgDb && wanted('ingest')) {
      const postgres = await section('ingest (PostgreSQL)', errors, () => postgresIngest(SIZES.postgresMembers, pgDb.url));
      if (postgres) ingest.push(postgres);
    }
    const packing = wanted('packing') ? await section<PackingResult>('packing', errors, () => packingBench(SIZES.packing)) : null;

    // One emulator and one `tailor serve` for the backlog drain, then the latency run.
    const engine: { backlog: EngineBacklogResult | null; latency: LatencyResult | null } = { backlog: null, latency: null };
    if (wanted('engine'))
      await section('engine', errors, async () => {
        const emu = await Emu.start();
        const dir = mkdtempSync(join(tmpdir(), 'tailor-bench-engine-'));
        let tailor: TailorProcess | null = null;
        try {
          log(`packing through the engine: writing a backlog of ${SIZES.backlog.toLocaleString('en-US')} e-mail changes`);
          await prepareBacklog(backlogDbPath(dir), emu, SIZES.backlog);
          const startedAt = Date.now();
          tailor = await TailorProcess.start(emu, {
            dir,
            env: { TAILOR_LOG_LEVEL: 'warn', TAILOR_FLUSH_INTERVAL_MS: String(FLUSH_MS), TAILOR_REFRESH_INTERVAL_MS: '3600000' },
          });
          const t = tailor;
          engine.backlog = await section('packing through the engine', errors, () => engineBacklog(t, emu, SIZES.backlog, startedAt));
          const configId = (await t.api<{ data: { id: string }[] }>('GET', '/configurations')).body.data[0]?.id ?? '';
          engine.latency = await section('latency', errors, () => latencyBench(t, emu, configId, { flushIntervalMs: FLUSH_MS, seconds: SIZES.latencySeconds }));
        } finally {
          await tailor?.stop({ keepDir: true });
          await emu.close();
          rmSync(dir, { recursive: true, force: true });
        }
      });

    const firehose = !wanted('firehose')
      ? null
      : await section('memory (Firehose)', errors, () => firehoseMemory(SIZES.firehoseRequests, 4, SIZES.firehosePacedSeconds));
    const e2e = !wanted('e2e') ? null : await section<E2eResult>('end to end', errors, () => e2eBench(SIZES.e2eMembers));
    const importMem = !wanted('import')
      ? null
      : await section<ImportMemoryResult>('memory (import)', errors, () => importMemory(SIZES.importRows, SIZES.importBudget));

    let workers: WorkersRun[] | null = null;
    if (pgDb && wanted('workers')) {
      workers = await section('workers (PostgreSQL)', errors, async () => {
        const emu = await Emu.start({ usersLatencyMs: WORKERS_USERS_LATENCY_MS });
        try {
          return await workersBench(emu, pgDb.url, {
            audiences: SIZES.workerAudiences,
            perAudience: SIZES.workerPerAudience,
            counts: SIZES.workerCounts,
            usersLatencyMs: WORKERS_USERS_LATENCY_MS,
          });
        } finally {
          await emu.close();
        }
      });
    }

    let serves: ServesRun[] | null = null;
    if (pgDb && wanted('serves')) {
      serves = await section('ingest from tailor serve processes (PostgreSQL)', errors, async () => {
        const emu = await Emu.start();
        try {
          return await servesBench(emu, pgDb.url, { members: SIZES.servesMembers, counts: [1, 2] });
        } finally {
          await emu.close();
        }
      });
    }

    // Bytes on disk per member after the sync, one dialect after the other (bench/storage.ts).
    const storage: StorageResult[] = [];
    if (wanted('storage')) {
      const s = await section('storage (SQLite)', errors, () => sqliteStorage(SIZES.storageMembers));
      if (s) storage.push(s);
      if (pgDb) {
        const storageDb = await createTestDatabase();
        try {
          const ps = await section('storage (PostgreSQL)', errors, () => postgresStorage(SIZES.storageMembers, storageDb.url));
          if (ps) storage.push(ps);
        } finally {
          await storageDb.drop();
        }
      }
    }

    // The audience list at scale, with the UI polling from five tabs (bench/status-list.ts).
    const statusList = !wanted('status-list')
      ? null
      : await section<StatusListResult>('audience list', errors, () =>
          statusListBench({ audiences: SIZES.statusAudiences, seconds: SIZES.statusSeconds, tabs: STATUS_TABS }),
        );

    const results: Results = {
      machine: m,
      quick,
      seconds: (Date.now() - started) / 1000,
      loadAtEnd: loadavg(),
      flushIntervalMs: FLUSH_MS,
      startup,
      hashing,
      ingest,
      postgresSkipped: pgDb ? null : 'PostgreSQL is not reachable (set TAILOR_TEST_POSTGRES_URL)',
      packing,
      backlog: engine.backlog,
      latency: engine.latency,
      firehose,
      e2e,
      importMemory: importMem,
      workers,
      serves,
      storage,
      statusList,
      errors,
    };
    const report = renderReport(results);
    process.stdout.write(report);
    if (!flag('--no-write') && only === null) {
      writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), report);
      log('written to docs/benchmarks.md');
    }
    log(`done in ${Math.round(results.seconds)} s`);
  } finally {
    await pgDb?.drop();
  }
}

await main();
