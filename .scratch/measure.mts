// Scratch: per-table and per-index bytes after the storage bench's fill, both dialects.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { downstreamName } from '/work/wt-h3/src/core/names.ts';
import { prepareChanges } from '/work/wt-h3/src/membership/changes.ts';
import { MemberKeys } from '/work/wt-h3/src/membership/member-key.ts';
import { openStore } from '/work/wt-h3/src/store/open.ts';
import type { ClaimOptions, Store } from '/work/wt-h3/src/store/port.ts';
import { member } from '/work/wt-h3/bench/data.ts';

const KEYS = new MemberKeys('bench-secret-key-0123456789abcdef0123');
async function fill(store: Store, count: number, afterDrain: () => Promise<void> = async () => {}) {
  let now = Date.now();
  const { configuration } = await store.putConfiguration({ name: 'bench', accountId: 'bench-storage', accountName: null, xUserId: null, screenName: null, tokens: 'unused' }, now, 'cli');
  await store.putAudience('storage', 'Storage', now, 'admin_token');
  await store.putConnection('storage', configuration.id, { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false }, now, 'admin_token');
  const opts = (): ClaimOptions => ({ owner: 'bench', now: (now += 20_000), leaseMs: 60_000, flushIntervalMs: 10_000, fullBatch: 2_500, maxChanges: 2_500, refreshIntervalMs: 1e12 });
  let xId = 0; let ingestMs = 0; let syncMs = 0;
  const drain = async () => { const t = performance.now(); for (;;) { const c = await store.claim(opts()); if (c === null) break;
    if (c.task === 'create') { xId++; await store.settleCreated(c.downstream.id, c.leaseToken, { id: `x${xId}`, name: downstreamName(c.audienceName ?? 'Storage', c.downstream.identityType, 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] }, now); }
    else if (c.task === 'send') await store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [], renewed: c.renewals }, now);
    else throw new Error(c.task); } syncMs += performance.now() - t; };
  await drain();
  for (let i = 0; i < count; i += 1000) {
    const prepared = prepareChanges(KEYS, 'add', Array.from({ length: Math.min(1000, count - i) }, (_, j) => member(i + j)));
    const t = performance.now();
    await store.applyMemberChanges('storage', prepared.changes, (now += 1), prepared.counts);
    ingestMs += performance.now() - t;
    if ((i + 1000) % 10_000 === 0 || i + 1000 >= count) { await drain(); await afterDrain(); }
  }
  return { ingestMs: Math.round(ingestMs), syncMs: Math.round(syncMs) };
}
const count = Number(process.argv[2] ?? 100_000);
const which = process.argv[3] ?? 'both';
if (which !== 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'h3-storage-'));
  const path = join(dir, 'tailor.db');
  const store = await openStore({ kind: 'sqlite', path });
  const t = await fill(store, count);
  await store.close();
  const bytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path, { readonly: true });
  const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes, SUM(ncell) AS cells FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 12').all() as any[];
  console.log('SQLite', count, 'bytes/member', (bytes / count).toFixed(0), t);
  for (const r of rows) console.log('  ', r.name.padEnd(34), (r.bytes / count).toFixed(1));
  db.close(); rmSync(dir, { recursive: true, force: true });
}
if (which !== 'sqlite') {
  const { createTestDatabase } = await import('/work/wt-h3/test/store/pg.ts');
  const tdb = await createTestDatabase();
  try {
    const store = await openStore({ kind: 'postgres', url: tdb.url });
    const client = new pg.Client({ connectionString: tdb.url }); await client.connect();
    const t = await fill(store, count, async () => void (await client.query('VACUUM outbox, x_members')));
    await store.close();
    const tot = (await client.query("SELECT sum(pg_total_relation_size(c.oid))::bigint AS b FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname='public' AND c.relkind='r'")).rows[0].b;
    const rel = (await client.query("SELECT c.relname, c.relkind, pg_relation_size(c.oid) AS b FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname='public' AND c.relkind IN ('r','i') ORDER BY 3 DESC LIMIT 14")).rows;
    console.log('PostgreSQL', count, 'bytes/member', (Number(tot) / count).toFixed(0), t);
    for (const r of rel) console.log('  ', r.relname.padEnd(34), r.relkind, (Number(r.b) / count).toFixed(1));
    await client.end();
  } finally { await tdb.drop(); }
}
