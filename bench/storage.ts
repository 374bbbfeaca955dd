/**
 * Storage: bytes on disk per member after N members (user id, an e-mail, a handle and an IDFA,
 * forwarded to the three X audiences of one connection) and confirmed on X, as the store is left
 * after the sync, on SQLite and PostgreSQL (issue 13, "Speed" 5).
 *
 * The members arrive as `tailor import` brings them: `ingest()` (what the import, REST and the
 * Firehose all call) in chunks of IMPORT_CHUNK_ROWS, one `applyMemberChanges` each, one chunk per
 * second of the store's clock (5,000 members a second, about what an import applies on this
 * machine). After each chunk the worker's claim runs until nothing is due: its batch sizes
 * (BATCH_BY_TYPE) and its rule (a full batch, or the oldest change has waited the default flush
 * interval, so about 50,000 changes per X audience and batch here), each batch settled as if X
 * accepted all of it: X's side (the emulator, HTTP) is left out, the store's side is whole. After
 * the last chunk the clock moves past the flush interval and the rest is claimed, so the outbox
 * is empty when the store is measured. The clock is the run's own, not the wall's, so the outbox
 * peaks at the same size on any machine: the figure does not depend on how fast this one is.
 *
 * PostgreSQL: autovacuum as the server runs it. A server with autovacuum off (test servers often
 * are) would measure every dead row ever made, so there the run does what autovacuum does: a plain
 * VACUUM (never FULL) of each table whose dead rows passed its threshold (the table's reloptions,
 * migration 0009's for the outbox and the X ledger, else the server's), as read from
 * pg_stat_user_tables, every autovacuum_naptime of the run's clock.
 *
 * Measured as left: SQLite the database file after the close's checkpoint (WAL empty; pages the
 * drained outbox freed stay in the file, free for reuse); PostgreSQL pg_total_relation_size (heap,
 * TOAST, indexes, free space map) of every table once autovacuum (or the stand-in) has visited
 * after the sync, as a user would find it a minute later: a plain VACUUM gives back the empty
 * pages at the end of the drained outbox's heap, never its index pages nor space inside a table.
 * Run alone: `npm run bench -- --only storage [--storage-members N]`, or
 * `npx tsx bench/storage.ts [members] [sqlite|postgres]`.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { downstreamName } from '../src/core/names.ts';
import { ingest } from '../src/membership/ingest.ts';
import { MemberKeys } from '../src/membership/member-key.ts';
import { IMPORT_CHUNK_ROWS } from '../src/sources/import/run.ts';
import { openStore } from '../src/store/open.ts';
import type { ClaimOptions, Store } from '../src/store/port.ts';
import { BATCH_BY_TYPE, MAX_BATCH } from '../src/sync/worker.ts';
import { member } from './data.ts';
import { int, log, timed } from './lib.ts';

const KEYS = new MemberKeys('bench-secret-key-0123456789abcdef0123');
/** TAILOR_FLUSH_INTERVAL_MS's default (src/config.ts). */
const FLUSH_INTERVAL_MS = 10_000;
/** The store's clock moves this much per import chunk: 5,000 members a second. */
const CHUNK_MS = 1_000;

export interface StorageResult {
  dialect: 'sqlite' | 'postgres';
  members: number;
  seconds: number;
  bytes: number;
  bytesPerMember: number;
  confirmedOnX: number;
  /** How dead rows were reclaimed during the run (PostgreSQL). */
  vacuum?: string;
  /** Table (with its indexes) → bytes, largest first. */
  tables: { name: string; bytes: number }[];
}

async function fill(store: Store, count: number, afterChunk: (now: number) => Promise<void> = async () => {}): Promise<number> {
  let now = Date.now();
  const { configuration } = await store.putConfiguration(
    { name: 'bench', accountId: 'bench-storage', accountName: null, xUserId: null, screenName: null, tokens: 'unused' },
    now,
    'cli',
  );
  await store.putAudience('storage', 'Storage', now, 'admin_token');
  await store.putConnection(
    'storage',
    configuration.id,
    { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false },
    now,
    'admin_token',
  );
  // The worker's claim (src/sync/worker.ts); no refreshes (there is no X to read).
  const opts = (): ClaimOptions => ({
    owner: 'bench',
    now,
    leaseMs: 60_000,
    flushIntervalMs: FLUSH_INTERVAL_MS,
    fullBatch: MAX_BATCH,
    maxChanges: MAX_BATCH,
    maxChangesByType: BATCH_BY_TYPE,
    refreshIntervalMs: 1e12,
  });
  let confirmed = 0;
  let xId = 0;
  /** Claims and settles until nothing is due now. */
  const drain = async (): Promise<void> => {
    for (;;) {
      const c = await store.claim(opts());
      if (c === null) return;
      if (c.task === 'create') {
        xId += 1;
        await store.settleCreated(
          c.downstream.id,
          c.leaseToken,
          {
            id: `x${xId}`,
            name: downstreamName(c.audienceName ?? 'Storage', c.downstream.identityType, 1),
            nameSuffix: 1,
            audienceSize: null,
            targetable: false,
            reasonsNotTargetable: [],
          },
          now,
        );
      } else if (c.task === 'send') {
        await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [], renewed: c.renewals }, now);
        confirmed += c.changes.length;
      } else {
        throw new Error(`storage bench: unexpected task ${c.task}`);
      }
    }
  };
  for (let i = 0; i < count; i += IMPORT_CHUNK_ROWS) {
    const members = Array.from({ length: Math.min(IMPORT_CHUNK_ROWS, count - i) }, (_, j) => member(i + j));
    const result = await ingest(store, KEYS, { audienceId: 'storage', parts: [{ action: 'add', members }], now });
    if (result.accepted.add !== members.length) throw new Error(`storage bench: ${result.accepted.add} of ${members.length} members accepted`);
    await drain();
    await afterChunk(now);
    now += CHUNK_MS;
    if ((i + IMPORT_CHUNK_ROWS) % 100_000 === 0) log(`  storage: ${int(i + IMPORT_CHUNK_ROWS)} members, ${int(confirmed)} hashes confirmed on X`);
  }
  // The rest: due once its flush interval has passed.
  now += FLUSH_INTERVAL_MS;
  await drain();
  return confirmed;
}

export async function sqliteStorage(count: number): Promise<StorageResult> {
  log(`storage (SQLite): ${int(count)} members in import chunks, synced as they come`);
  const dir = mkdtempSync(join(tmpdir(), 'tailor-bench-storage-'));
  try {
    const path = join(dir, 'tailor.db');
    const store = await openStore({ kind: 'sqlite', path });
    const run = await timed(() => fill(store, count));
    await store.close();
    const bytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path, { readonly: true });
    let tables: { name: string; bytes: number }[] = [];
    try {
      const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[];
      const owner = new Map(
        (db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')").all() as { name: string; tbl_name: string }[]).map((r) => [
          r.name,
          r.tbl_name,
        ]),
      );
      const byTable = new Map<string, number>();
      for (const r of rows) byTable.set(owner.get(r.name) ?? r.name, (byTable.get(owner.get(r.name) ?? r.name) ?? 0) + r.bytes);
      tables = [...byTable].map(([name, b]) => ({ name, bytes: b })).sort((a, b) => b.bytes - a.bytes);
    } catch {
      // dbstat is compiled into better-sqlite3's SQLite; without it, only the total is reported.
    } finally {
      db.close();
    }
    return { dialect: 'sqlite', members: count, seconds: run.seconds, bytes, bytesPerMember: bytes / count, confirmedOnX: run.value, tables };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What autovacuum would do on a server where it is off: every naptime of the run's clock (`visit`,
 * called after each import chunk), a plain VACUUM of each table whose dead rows passed
 * autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × rows, from the table's reloptions
 * or the server's settings. (Vacuums triggered by inserts alone only set visibility bits; they
 * free no space, so they are left out.) `finish` is the visit autovacuum would make within a
 * naptime of the sync's end.
 */
async function autovacuumStandIn(client: pg.Client): Promise<{ visit: (now: number) => Promise<void>; finish: () => Promise<void>; runs: () => number }> {
  // pg_settings.setting is in the setting's base unit (seconds for the naptime).
  const setting = async (name: string): Promise<string> =>
    (await client.query<{ v: string }>('SELECT setting AS v FROM pg_settings WHERE name = $1', [name])).rows[0]!.v;
  const naptimeMs = Number(await setting('autovacuum_naptime')) * 1000;
  const baseThreshold = Number(await setting('autovacuum_vacuum_threshold'));
  const baseScale = Number(await setting('autovacuum_vacuum_scale_factor'));
  let runs = 0;
  const once = async (): Promise<void> => {
    const tables = await client.query<{ name: string; dead: string; tuples: number; options: string[] | null }>(
      `SELECT s.relname AS name, s.n_dead_tup AS dead, c.reltuples AS tuples, c.reloptions AS options
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = 'public'`,
    );
    for (const t of tables.rows) {
      const option = (key: string): number | null => {
        const found = (t.options ?? []).find((o) => o.startsWith(`${key}=`));
        return found === undefined ? null : Number(found.slice(key.length + 1));
      };
      const threshold =
        (option('autovacuum_vacuum_threshold') ?? baseThreshold) + (option('autovacuum_vacuum_scale_factor') ?? baseScale) * Math.max(0, t.tuples);
      if (Number(t.dead) > threshold) {
        await client.query(`VACUUM ${pg.escapeIdentifier(t.name)}`);
        runs += 1;
      }
    }
  };
  // Visits on the run's clock (fill's), so that the figure does not depend on this machine's speed.
  let lastVisit: number | null = null;
  return {
    visit: async (now: number) => {
      lastVisit ??= now;
      if (now - lastVisit < naptimeMs) return;
      lastVisit = now;
      await once();
    },
    // Its next visit, at once: what the store looks like a naptime after the sync.
    finish: once,
    runs: () => runs,
  };
}

/** With autovacuum on: waits (at most two naptimes) until it has visited the outbox since the sync ended. */
async function autovacuumVisit(client: pg.Client): Promise<void> {
  const since = new Date();
  const naptimeMs = Number((await client.query<{ v: string }>("SELECT setting AS v FROM pg_settings WHERE name = 'autovacuum_naptime'")).rows[0]!.v) * 1000;
  for (const deadline = Date.now() + 2 * naptimeMs + 10_000; Date.now() < deadline; await sleep(1_000)) {
    const r = await client.query<{ at: Date | null }>("SELECT last_autovacuum AS at FROM pg_stat_user_tables WHERE relname = 'outbox'");
    if (r.rows[0]?.at && r.rows[0].at >= since) return;
  }
}

export async function postgresStorage(count: number, url: string): Promise<StorageResult> {
  log(`storage (PostgreSQL): ${int(count)} members in import chunks, synced as they come`);
  const store = await openStore({ kind: 'postgres', url });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const autovacuum = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum === 'on';
  const standIn = autovacuum ? null : await autovacuumStandIn(client);
  let run: { seconds: number; value: number };
  try {
    run = await timed(() => fill(store, count, standIn?.visit));
  } finally {
    // Closed first: a backend reports its last dead rows to the statistics when it ends.
    await store.close();
  }
  if (standIn) await standIn.finish();
  else await autovacuumVisit(client);
  const vacuum = autovacuum
    ? 'autovacuum as the server runs it (0009 thresholds for the outbox and the X ledger), measured after its first visit once the sync ended'
    : `autovacuum is off on this server: the run did what it does (a plain VACUUM of each table past its threshold, every autovacuum_naptime of the run's clock, and once more after the sync), ${standIn!.runs()} vacuums`;
  try {
    const rows = (
      await client.query<{ name: string; bytes: string }>(
        "SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'",
      )
    ).rows;
    const tables = rows.map((r) => ({ name: r.name, bytes: Number(r.bytes) })).sort((a, b) => b.bytes - a.bytes);
    const bytes = tables.reduce((s, t) => s + t.bytes, 0);
    return { dialect: 'postgres', members: count, seconds: run.seconds, bytes, bytesPerMember: bytes / count, confirmedOnX: run.value, vacuum, tables };
  } finally {
    await client.end();
  }
}

/** `tsx bench/storage.ts [members] [sqlite|postgres]`: this scenario alone, printed as JSON lines. */
if (process.argv[1]?.endsWith('storage.ts')) {
  const count = Number(process.argv[2] ?? 1_000_000);
  const { createTestDatabase } = await import('../test/store/pg.ts');
  const only = process.argv[3]; // 'sqlite' or 'postgres': one dialect
  // One JSON line per dialect, each as soon as it is measured.
  if (only !== 'postgres') process.stdout.write(`${JSON.stringify(await sqliteStorage(count))}\n`);
  if (only !== 'sqlite') {
    const tdb = await createTestDatabase();
    try {
      process.stdout.write(`${JSON.stringify(await postgresStorage(count, tdb.url))}\n`);
    } finally {
      await tdb.drop();
    }
  }
}
