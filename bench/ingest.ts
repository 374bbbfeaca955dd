/**
 * Ingest ceiling: membership changes made durable per second through the engine (normalize, hash,
 * audience ledger, outbox fan-out to the three downstream audiences of a connection with every
 * Forward toggle on), next to the raw rate of upserting the same rows, in the same chunks, into a
 * bare table of the same database with the same durability settings. The ratio is the headline:
 * how much of the database's own ceiling the engine keeps.
 *
 * Unit: identity changes (one hash for one member). Each synthetic member carries three (an
 * e-mail, a handle, an IDFA), so the raw side upserts three rows per member.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { prepareChanges, type SourceMember } from '../src/membership/changes.ts';
import { MemberKeys } from '../src/membership/member-key.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/port.ts';
import { openSqlite } from '../src/store/sqlite/open.ts';
import { hashIdentity, KIND_TO_TYPE } from '../src/identity/index.ts';
import { member } from './data.ts';
import { log, timed } from './lib.ts';

const KEYS = new MemberKeys('bench-secret-key-0123456789abcdef0123');

/** Members per transaction: a REST call of a thousand members, or a fifth of an import chunk. */
export const INGEST_CHUNK = 1_000;

export interface IngestResult {
  dialect: 'sqlite' | 'postgres';
  members: number;
  identities: number;
  chunk: number;
  engineSeconds: number;
  engineIdentitiesPerSecond: number;
  engineMembersPerSecond: number;
  rawSeconds: number;
  rawRowsPerSecond: number;
  ratio: number;
}

async function seed(store: Store): Promise<string> {
  const now = Date.now();
  const { configuration } = await store.putConfiguration(
    { name: 'bench', accountId: 'bench0001', accountName: null, xUserId: null, screenName: null, tokens: 'unused' },
    now,
    'cli',
  );
  await store.putAudience('bench', 'Bench', now, 'admin_token');
  await store.putConnection(
    'bench',
    configuration.id,
    { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false },
    now,
    'admin_token',
  );
  return 'bench';
}

function chunks(members: SourceMember[], size: number): SourceMember[][] {
  const out: SourceMember[][] = [];
  for (let i = 0; i < members.length; i += size) out.push(members.slice(i, i + size));
  return out;
}

/** The rows the raw side upserts: the same hashes, computed before timing (the raw side does no hashing). */
function rawRows(members: SourceMember[]): { type: string; hash: string; key: string }[][] {
  return chunks(members, INGEST_CHUNK).map((c) =>
    c.flatMap((m) =>
      m.identities.map((id) => {
        const r = hashIdentity(id.kind, id.value);
        if (!r.ok) throw new Error('bench data rejected');
        return { type: KIND_TO_TYPE[id.kind], hash: r.hash, key: m.key?.value ?? '' };
      }),
    ),
  );
}

async function engine(store: Store, members: SourceMember[]): Promise<number> {
  const audience = await seed(store);
  const { seconds } = await timed(async () => {
    for (const chunk of chunks(members, INGEST_CHUNK)) {
      const prepared = prepareChanges(KEYS, 'add', chunk);
      await store.applyMemberChanges(audience, prepared.changes, Date.now(), prepared.counts);
    }
  });
  return seconds;
}

function result(dialect: IngestResult['dialect'], members: number, engineSeconds: number, rawSeconds: number): IngestResult {
  const identities = members * 3;
  const engineIdentitiesPerSecond = identities / engineSeconds;
  const rawRowsPerSecond = identities / rawSeconds;
  return {
    dialect,
    members,
    identities,
    chunk: INGEST_CHUNK,
    engineSeconds,
    engineIdentitiesPerSecond,
    engineMembersPerSecond: members / engineSeconds,
    rawSeconds,
    rawRowsPerSecond,
    ratio: engineIdentitiesPerSecond / rawRowsPerSecond,
  };
}

export async function sqliteIngest(count: number): Promise<IngestResult> {
  log(`ingest (SQLite): ${count.toLocaleString('en-US')} members, ${INGEST_CHUNK} per transaction`);
  const dir = mkdtempSync(join(tmpdir(), 'tailor-bench-ingest-'));
  try {
    const members = Array.from({ length: count }, (_, i) => member(i));
    const rows = rawRows(members);
    const store = await openStore({ kind: 'sqlite', path: join(dir, 'engine.db') });
    const engineSeconds = await engine(store, members);
    await store.close();

    // Same file settings (openSqlite: WAL, synchronous=FULL, the page cache), same chunks.
    const db = openSqlite(join(dir, 'raw.db'));
    db.exec(
      'CREATE TABLE bare (identity_type TEXT NOT NULL, hash TEXT NOT NULL, member_key TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (identity_type, hash)) WITHOUT ROWID',
    );
    const upsert = db.prepare(
      'INSERT INTO bare (identity_type, hash, member_key, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (identity_type, hash) DO UPDATE SET member_key = excluded.member_key, updated_at = excluded.updated_at',
    );
    const write = db.transaction((chunk: { type: string; hash: string; key: string }[], now: number) => {
      for (const r of chunk) upsert.run(r.type, r.hash, r.key, now);
    });
    const raw = await timed(() => {
      for (const chunk of rows) write.immediate(chunk, Date.now());
    });
    db.close();
    return result('sqlite', count, engineSeconds, raw.seconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function postgresIngest(count: number, url: string): Promise<IngestResult> {
  log(`ingest (PostgreSQL): ${count.toLocaleString('en-US')} members, ${INGEST_CHUNK} per transaction`);
  const members = Array.from({ length: count }, (_, i) => member(i));
  const rows = rawRows(members);
  const store = await openStore({ kind: 'postgres', url });
  let engineSeconds: number;
  try {
    engineSeconds = await engine(store, members);
  } finally {
    await store.close();
  }

  // Same database and server settings (synchronous_commit as configured), one multi-row upsert per chunk.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE bare (identity_type text NOT NULL, hash text NOT NULL, member_key text NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (identity_type, hash))',
    );
    const raw = await timed(async () => {
      for (const chunk of rows) {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO bare (identity_type, hash, member_key, updated_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
           ON CONFLICT (identity_type, hash) DO UPDATE SET member_key = excluded.member_key, updated_at = excluded.updated_at`,
          [chunk.map((r) => r.type), chunk.map((r) => r.hash), chunk.map((r) => r.key), chunk.map(() => Date.now())],
        );
        await client.query('COMMIT');
      }
    });
    return result('postgres', count, engineSeconds, raw.seconds);
  } finally {
    await client.end();
  }
}
