// Where the SQLite ledger's time goes per 1,000-member transaction (issue 13): npx tsx bench/ingest-profile.ts [members] [full|no-outbox|per-request-outbox|no-outbox-no-holders].
// One transaction per 1,000 members (the raw side's shape), each ledger statement timed; the modes stub parts out to bound what removing them buys. Not a bench section.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareChanges } from '../src/membership/changes.ts';
import { MemberKeys } from '../src/membership/member-key.ts';
import { openStore } from '../src/store/open.ts';
import { member } from './data.ts';

const KEYS = new MemberKeys('bench-secret-key-0123456789abcdef0123');
const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'tailor-prof-'));
const store = await openStore({ kind: 'sqlite', path: join(dir, 'e.db') });
const now0 = Date.now();
const { configuration } = await store.putConfiguration(
  { name: 'b', accountId: 'b1', accountName: null, xUserId: null, screenName: null, tokens: 'x' },
  now0,
  'cli',
);
await store.putAudience('bench', 'Bench', now0, 'admin_token');
await store.putConnection(
  'bench',
  configuration.id,
  { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false },
  now0,
  'admin_token',
);
const s = store as any;
const db = s.db;
const ledger = s.ledger;
const times: Record<string, number> = {};
const counts: Record<string, number> = {};
for (const name of [
  'memberRow',
  'putMember',
  'dropMember',
  'gainHolder',
  'loseHolder',
  'dropHash',
  'forwarding',
  'enqueue',
  'countMembers',
  'countRejection',
]) {
  const st = ledger[name];
  if (!st) continue;
  times[name] = 0;
  counts[name] = 0;
  for (const m of ['run', 'get', 'all']) {
    const f = st[m].bind(st);
    st[m] = (...a: unknown[]) => {
      const t = performance.now();
      const r = f(...a);
      times[name] = (times[name] ?? 0) + performance.now() - t;
      counts[name] = (counts[name] ?? 0) + 1;
      return r;
    };
  }
}
const mode = process.argv[3] ?? 'full';
if (mode === 'no-outbox') ledger.enqueue.run = () => undefined;
if (mode === 'no-outbox-no-holders') {
  ledger.enqueue.run = () => undefined;
  ledger.gainHolder.get = () => 1;
}
if (mode === 'per-request-outbox') {
  // What one row per (downstream, transaction) would write: the changes collected, one blob row each at the end.
  db.exec(
    'CREATE TABLE outbox_req (downstream_id INTEGER NOT NULL, seq INTEGER NOT NULL, changes BLOB NOT NULL, change_count INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, claim_token TEXT, PRIMARY KEY (downstream_id, seq)) WITHOUT ROWID',
  );
  const put = db.prepare('INSERT INTO outbox_req VALUES (?, ?, ?, ?, ?, NULL)');
  let pending = new Map<number, Buffer[]>();
  ledger.enqueue.run = (d: number, h: Buffer, op: string) => {
    let l = pending.get(d);
    if (!l) pending.set(d, (l = []));
    l.push(Buffer.from([op === 'add' ? 1 : 0]), h);
  };
  let seq = 0;
  const apply0 = ledger.apply.bind(ledger);
  ledger.apply = (...a: unknown[]) => {
    const r = apply0(...a);
    for (const [d, l] of pending) put.run(d, ++seq, Buffer.concat(l), l.length / 2, Date.now());
    pending = new Map();
    return r;
  };
}
let prep = 0,
  apply = 0,
  commit = 0,
  chunks = 0;
const begin = db.prepare('BEGIN IMMEDIATE'),
  end = db.prepare('COMMIT');
for (let i = 0; i < N; i += 1000) {
  const ms = Array.from({ length: 1000 }, (_, j) => member(i + j));
  let t = performance.now();
  const p = prepareChanges(KEYS, 'add', ms);
  prep += performance.now() - t;
  t = performance.now();
  begin.run();
  ledger.apply('bench', p.changes, Date.now(), p.counts);
  const t2 = performance.now();
  end.run();
  apply += t2 - t;
  commit += performance.now() - t2;
  chunks += 1;
}
const per = (x: number) => (x / chunks).toFixed(2);
console.log(`mode ${mode}: engine ${((3 * N) / ((prep + apply + commit) / 1000)).toFixed(0)} identities/s`);
console.log(`members ${N}, chunks ${chunks}: per 1,000-member tx: prepare ${per(prep)} ms, ledger.apply ${per(apply)} ms, commit ${per(commit)} ms`);
for (const [k, ms] of Object.entries(times)) console.log(`  ${k}: ${per(ms)} ms/tx, ${((counts[k] ?? 0) / chunks).toFixed(0)} calls/tx`);
const stat = db.prepare('SELECT name, SUM(pgsize) AS bytes, COUNT(*) AS pages FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 8').all();
for (const r of stat) console.log(`  ${r.name}: ${(r.bytes / 1e6).toFixed(1)} MB (${(r.bytes / N).toFixed(0)} B/member)`);
await store.close();
{
  const { openSqlite } = await import('../src/store/sqlite/open.ts');
  const { hashIdentity, KIND_TO_TYPE } = await import('../src/identity/index.ts');
  const raw = openSqlite(join(dir, 'raw.db'));
  raw.exec(
    'CREATE TABLE bare (identity_type TEXT NOT NULL, hash TEXT NOT NULL, member_key TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (identity_type, hash)) WITHOUT ROWID',
  );
  const up = raw.prepare(
    'INSERT INTO bare (identity_type, hash, member_key, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (identity_type, hash) DO UPDATE SET member_key = excluded.member_key, updated_at = excluded.updated_at',
  );
  const w = raw.transaction((rows: { type: string; hash: string; key: string }[], now: number) => {
    for (const r of rows) up.run(r.type, r.hash, r.key, now);
  });
  const all = [];
  for (let i = 0; i < N; i += 1000)
    all.push(
      Array.from({ length: 1000 }, (_, j) => member(i + j)).flatMap((m) =>
        m.identities.map((id) => {
          const r = hashIdentity(id.kind, id.value) as { hash: string };
          return { type: KIND_TO_TYPE[id.kind], hash: r.hash, key: m.key?.value ?? '' };
        }),
      ),
    );
  const t = performance.now();
  for (const c of all) w.immediate(c, Date.now());
  const secs = (performance.now() - t) / 1000;
  const rawRate = (3 * N) / secs;
  console.log(
    `raw ${rawRate.toFixed(0)} rows/s; ratio (profile's one tx per 1,000 members) ${((3 * N) / ((prep + apply + commit) / 1000) / rawRate).toFixed(2)}`,
  );
  raw.close();
}
rmSync(dir, { recursive: true, force: true });
