/**
 * Storage: bytes on disk per member after N members (user id, an e-mail, a handle and an IDFA,
 * forwarded to the three X audiences of one connection) and confirmed on X, as the store is left
 * after the sync, on SQLite and PostgreSQL (issue 13, "Speed" 5).
 *
 * The engine path at store level, as `tailor serve` runs it without HTTP: members arrive in
 * requests of 1,000 (prepareChanges + applyMemberChanges), and after every 10,000 the sync drains
 * the outbox (claim, then settleSent as if X accepted everything), so the outbox fills and empties
 * as it does under a running worker. Nothing is vacuumed by hand: PostgreSQL's figure is what its
 * autovacuum left. SQLite: the database file after the close's checkpoint (WAL empty). PostgreSQL:
 * pg_total_relation_size (heap, TOAST, indexes, free space map) of every table.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { downstreamName } from '../src/core/names.ts';
import { prepareChanges } from '../src/membership/changes.ts';
import { MemberKeys } from '../src/membership/member-key.ts';
import { openStore } from '../src/store/open.ts';
import type { ClaimOptions, Store } from '../src/store/port.ts';
import { member } from './data.ts';
import { int, log, timed } from './lib.ts';

const KEYS = new MemberKeys('bench-secret-key-0123456789abcdef0123');
const REQUEST = 1_000;
const SYNC_EVERY = 10_000;

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

async function fill(store: Store, count: number, afterDrain: () => Promise<void> = async () => {}): Promise<number> {
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
  const opts = (): ClaimOptions => ({
    owner: 'bench',
    now: (now += 20_000),
    leaseMs: 60_000,
    flushIntervalMs: 10_000,
    fullBatch: 2_500,
    maxChanges: 2_500,
    refreshIntervalMs: 1e12,
  });
  let confirmed = 0;
  let xId = 0;
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
  await drain();
  for (let i = 0; i < count; i += REQUEST) {
    const prepared = prepareChanges(
      KEYS,
      'add',
      Array.from({ length: Math.min(REQUEST, count - i) }, (_, j) => member(i + j)),
    );
    await store.applyMemberChanges('storage', prepared.changes, (now += 1), prepared.counts);
    if ((i + REQUEST) % SYNC_EVERY === 0 || i + REQUEST >= count) {
      await drain();
      await afterDrain();
    }
    if ((i + REQUEST) % 100_000 === 0) log(`  storage: ${int(i + REQUEST)} members`);
  }
  return confirmed;
}

export async function sqliteStorage(count: number): Promise<StorageResult> {
  log(`storage (SQLite): ${int(count)} members, synced every ${int(SYNC_EVERY)}`);
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

export async function postgresStorage(count: number, url: string): Promise<StorageResult> {
  log(`storage (PostgreSQL): ${int(count)} members, synced every ${int(SYNC_EVERY)}`);
  const store = await openStore({ kind: 'postgres', url });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // A server with autovacuum off (test servers often are) would measure every dead row ever made;
  // there the run does what autovacuum does with 0009's thresholds: a plain VACUUM (never FULL) of
  // the queue tables after each drain, which frees their dead rows for reuse in place.
  const autovacuum = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum === 'on';
  const vacuum = autovacuum
    ? 'autovacuum (server default settings, 0009 thresholds)'
    : 'autovacuum is off on this server: plain VACUUM of outbox and x_members after each drain';
  let run: { seconds: number; value: number };
  try {
    run = await timed(() => fill(store, count, autovacuum ? undefined : async () => void (await client.query('VACUUM outbox, x_members'))));
  } finally {
    await store.close();
  }
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
