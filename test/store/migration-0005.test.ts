/**
 * Migration 0005 on both dialects: a database made by the schema before it (0001-0004), holding
 * rows as Tailor wrote them then (raw user ids and mpids as member keys), is converted to the
 * namespaced, keyed member keys; the maintained member counts stay right; and afterwards an add or
 * a remove for the same user id or mpid still meets the same member.
 */
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config-error.ts';
import type { IdentityType } from '../../src/core/terms.ts';
import { prepareChanges, type SourceKey } from '../../src/membership/changes.ts';
import { MemberKeys } from '../../src/membership/member-key.ts';
import type { OpenOptions } from '../../src/store/open-options.ts';
import type { Store } from '../../src/store/port.ts';
import { createPool } from '../../src/store/postgres/db.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { migrate as migratePostgres } from '../../src/store/postgres/migrate.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { migrate as migrateSqlite } from '../../src/store/sqlite/open.ts';
import { h } from './helpers.ts';
import { createTestDatabase } from './pg.ts';
import { hashHex, memberKeyText } from '../../src/store/binary.ts';
import { ledgerRows } from '../support/ledger-rows.ts';

const SECRET = 'migration-test-secret-0123456789abcdef';
const keys = new MemberKeys(SECRET);
const WITH_KEY: OpenOptions = { memberKey: (kind, raw) => keys.of(kind, raw) };
const now = 1_000_000;

interface Row {
  audience: string;
  /** The key as Tailor wrote it before 0005. */
  key: string;
  hashes: [IdentityType, string][];
  /** What 0005 must take it for. */
  kind: 'user_id' | 'mpid' | 'identity';
}

const SEED: Row[] = [
  {
    audience: 'spring',
    key: 'alice@example.com',
    hashes: [
      ['email', h(1)],
      ['handle', h(2)],
    ],
    kind: 'user_id',
  },
  { audience: 'spring', key: 'u-2', hashes: [['email', h(1)]], kind: 'user_id' }, // shares h(1) with alice
  { audience: 'spring', key: `email:${h(3)}`, hashes: [['email', h(3)]], kind: 'identity' },
  { audience: 'spring', key: '12345', hashes: [['device_id', h(4)]], kind: 'user_id' }, // integer, but not a Firehose audience
  {
    audience: '7622',
    key: '-1327484737295091692',
    hashes: [
      ['email', h(5)],
      ['device_id', h(6)],
    ],
    kind: 'mpid',
  },
  { audience: '7622', key: `device_id:${h(6)}`, hashes: [['device_id', h(6)]], kind: 'identity' },
  { audience: '42', key: 'bob', hashes: [['handle', h(7)]], kind: 'user_id' },
  { audience: '42', key: '77', hashes: [['handle', h(7)]], kind: 'mpid' }, // the ambiguous case, by the documented rule
];
const AUDIENCES = [...new Set(SEED.map((r) => r.audience))];
const newKey = (r: Row): string => (r.kind === 'identity' ? r.key : keys.of(r.kind, r.key));
const ledgerOf = (rows: Row[], key: (r: Row) => string): string[] => rows.flatMap((r) => r.hashes.map(([t, x]) => `${r.audience} ${key(r)} ${t} ${x}`)).sort();
const countsOf = (rows: Row[]): Record<string, number> => Object.fromEntries(AUDIENCES.map((a) => [a, rows.filter((r) => r.audience === a).length]));
/** Raw user ids and mpids of the seed that no hex digest can contain by chance. */
const RAW_NEEDLES = ['alice@example.com', 'u-2', '-1327484737295091692', 'bob'];

/** Keys and hashes as stored: text before 0009, bytes since (src/store/binary.ts). */
const keyText = (k: string | Buffer): string => (typeof k === 'string' ? k : memberKeyText(k));
const hexText = (x: string | Buffer): string => (typeof x === 'string' ? x : hashHex(x));

/** A database left by Tailor before 0005, and ways to look into it from outside the store. */
interface Legacy {
  /** TAILOR_DATABASE_URL for this database. */
  url: string;
  open(opts: OpenOptions): Promise<Store>;
  ledger(): Promise<string[]>;
  counts(): Promise<Record<string, number>>;
  version(): Promise<number>;
  /** Checks that hold only on this dialect (files, holder counts). */
  extra(): Promise<void>;
  cleanup(): Promise<void>;
}

interface Dialect {
  name: string;
  build(rows: Row[]): Promise<Legacy>;
}

const sqlite: Dialect = {
  name: 'sqlite',
  async build(rows) {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-0005-'));
    const path = join(dir, 'tailor.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    migrateSqlite(db, {}, 4);
    // As the ledger wrote it before 0005 (text hashes and keys; today's ledger writes 0009's bytes),
    // fed the keys the sources passed through raw before 0005.
    for (const a of AUDIENCES) db.prepare('INSERT INTO audiences (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)').run(a, a, now, now);
    const insert = db.prepare('INSERT INTO members (audience_id, identity_type, hash, member_key) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (const r of rows) for (const [type, hash] of r.hashes) insert.run(r.audience, type, hash, r.key);
    }).immediate();
    db.close();
    let store: Store | null = null;
    const read = <T>(fn: (d: Database.Database) => T): T => {
      const d = new Database(path, { readonly: true });
      try {
        return fn(d);
      } finally {
        d.close();
      }
    };
    return {
      url: `sqlite:${path}`,
      async open(opts) {
        store = SqliteStore.open(path, opts);
        return store;
      },
      ledger: async () =>
        read((d) =>
          ledgerRows(d.prepare('SELECT * FROM members').all() as Record<string, unknown>[])
            .map((r) => `${r.audience_id} ${r.member_key} ${r.identity_type} ${r.hash}`)
            .sort(),
        ),
      counts: async () =>
        read((d) =>
          Object.fromEntries(
            (d.prepare('SELECT id, member_count FROM audiences').all() as { id: string; member_count: number }[]).map((r) => [r.id, r.member_count]),
          ),
        ),
      version: async () => read((d) => d.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number),
      async extra() {
        // At rest: the raw user ids and mpids are gone from every file (old cells, free pages, WAL).
        await store?.close();
        store = null;
        const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
        for (const raw of RAW_NEEDLES) for (const content of files) expect(content.includes(Buffer.from(raw)), raw).toBe(false);
      },
      async cleanup() {
        await store?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: Dialect = {
  name: 'postgres',
  async build(rows) {
    const tdb = await createTestDatabase();
    const pool = createPool(tdb.url);
    await migratePostgres(pool, {}, 4);
    // As the ledger wrote it before 0005: members, one audience_members row per member, holder counts.
    for (const a of AUDIENCES) await pool.query('INSERT INTO audiences (id, name, created_at, updated_at) VALUES ($1, $1, $2, $2)', [a, now]);
    const holders = new Map<string, number>();
    for (const r of rows) {
      await pool.query('INSERT INTO audience_members (audience_id, member_key) VALUES ($1, $2)', [r.audience, r.key]);
      for (const [t, x] of r.hashes) {
        await pool.query('INSERT INTO members (audience_id, identity_type, hash, member_key) VALUES ($1, $2, $3, $4)', [r.audience, t, x, r.key]);
        holders.set(`${r.audience} ${t} ${x}`, (holders.get(`${r.audience} ${t} ${x}`) ?? 0) + 1);
      }
    }
    for (const [k, n] of holders)
      await pool.query('INSERT INTO hash_holders (audience_id, identity_type, hash, holders) VALUES ($1, $2, $3, $4)', [...k.split(' '), n]);
    let store: Store | null = null;
    const ledger = async (): Promise<string[]> =>
      ledgerRows((await pool.query('SELECT * FROM members')).rows)
        .map((r) => `${r.audience_id} ${r.member_key} ${r.identity_type} ${r.hash}`)
        .sort();
    return {
      url: tdb.url,
      async open(opts) {
        store = await openPostgresStore(tdb.url, opts);
        return store;
      },
      ledger,
      async counts() {
        const cols = await pool.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'audiences' AND column_name = 'member_count'");
        const sql =
          cols.rowCount === 0
            ? 'SELECT a.id, (SELECT count(*) FROM audience_members m WHERE m.audience_id = a.id) AS n FROM audiences a'
            : 'SELECT id, member_count AS n FROM audiences';
        return Object.fromEntries((await pool.query<{ id: string; n: number }>(sql)).rows.map((r) => [r.id, Number(r.n)]));
      },
      version: async () => (await pool.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]!.v,
      async extra() {
        // One members row per member since 0019 (audience_members went with it), each holding an
        // identity, and the holder counts did not move.
        const am = (
          await pool.query<{ audience_id: string; member_key: Buffer; n: number }>('SELECT audience_id, member_key, length(identities) AS n FROM members')
        ).rows;
        expect(am.every((r) => r.n > 0)).toBe(true);
        const fromLedger = [...new Set((await ledger()).map((l) => l.split(' ').slice(0, 2).join(' ')))].sort();
        expect(am.map((r) => `${r.audience_id} ${keyText(r.member_key)}`).sort()).toEqual(fromLedger);
        const got = (
          await pool.query<{ audience_id: string; identity_type: string; hash: string | Buffer; holders: number }>(
            'SELECT audience_id, identity_type, hash, holders FROM hash_holders',
          )
        ).rows;
        expect(new Map(got.map((r) => [`${r.audience_id} ${r.identity_type} ${hexText(r.hash)}`, r.holders]))).toEqual(holders);
      },
      async cleanup() {
        await store?.close();
        await pool.end();
        await tdb.drop();
      },
    };
  },
};

const DIALECTS = [sqlite, postgres];

describe('migration 0005 on SQLite: the raw values leave the files', () => {
  it('a VACUUM that could not run (the file was busy) is run at the next open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-0005-scrub-'));
    try {
      const path = join(dir, 'tailor.db');
      await SqliteStore.open(path, WITH_KEY).close();
      // As a busy VACUUM leaves it: converted rows, the request still in meta, a raw value in a free cell.
      const db = new Database(path);
      db.prepare("INSERT INTO meta (key, value) VALUES ('vacuum_requested_by', '0005')").run();
      db.prepare("INSERT INTO meta (key, value) VALUES ('left-over', 'alice@example.com')").run();
      db.prepare("DELETE FROM meta WHERE key = 'left-over'").run();
      db.close();
      const content = (): Buffer => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
      expect(content().includes(Buffer.from('alice@example.com'))).toBe(true);
      await SqliteStore.open(path, WITH_KEY).close();
      expect(content().includes(Buffer.from('alice@example.com'))).toBe(false);
      const after = new Database(path, { readonly: true });
      expect(after.prepare("SELECT value FROM meta WHERE key = 'vacuum_requested_by'").get()).toBeUndefined();
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs `tailor migrate` as an operator would. */
const migrateCli = (url: string, secret?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TAILOR_DATABASE_URL: url,
      ...(secret ? { TAILOR_SECRET_KEY: secret } : {}),
    };
    execFile(process.execPath, ['bin/tailor.js', 'migrate'], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });

/** A REST/import or Firehose change, keyed as the sources key it now. */
const change = (action: 'add' | 'remove', key: SourceKey, emails: string[] = []) =>
  prepareChanges(keys, action, [{ key, identities: emails.map((e) => ({ kind: 'email' as const, value: e, encoding: 'sha256' as const })) }]).changes;

for (const dialect of DIALECTS) {
  describe(`migration 0005: member keys (${dialect.name})`, () => {
    let legacy: Legacy | null = null;
    afterEach(async () => {
      await legacy?.cleanup();
      legacy = null;
    });

    it('converts every key to its namespaced, keyed form and keeps the member counts', async () => {
      legacy = await dialect.build(SEED);
      expect(await legacy.version()).toBe(4);
      expect(await legacy.ledger()).toEqual(ledgerOf(SEED, (r) => r.key));
      const store = await legacy.open(WITH_KEY);
      expect(await legacy.version()).toBeGreaterThanOrEqual(5);
      expect(await legacy.ledger()).toEqual(ledgerOf(SEED, newKey));
      expect(await legacy.counts()).toEqual(countsOf(SEED));
      for (const a of AUDIENCES) expect(await store.countMembers(a)).toBe(countsOf(SEED)[a]);
      expect(Object.fromEntries((await store.listAudiences()).map((a) => [a.id, a.members]))).toEqual(countsOf(SEED));
      await legacy.extra();
    });

    it('afterwards an add or a remove for the same user id or mpid meets the same member', async () => {
      legacy = await dialect.build(SEED);
      const store = await legacy.open(WITH_KEY);
      // alice leaves: her two hashes go, h(1) stays held by u-2.
      await store.applyMemberChanges('spring', change('remove', { kind: 'user_id', value: 'alice@example.com' }), now);
      // u-2 changes e-mail: the add replaces its whole set, so h(1) is no longer held at all.
      await store.applyMemberChanges('spring', change('add', { kind: 'user_id', value: 'u-2' }, [h(9)]), now);
      // The mpids leave 7622 and 42 (77 was taken for an mpid, as the rule says).
      await store.applyMemberChanges('7622', change('remove', { kind: 'mpid', value: '-1327484737295091692' }), now);
      await store.applyMemberChanges('42', change('remove', { kind: 'mpid', value: '77' }), now);
      // The same user id again: still one member, nothing new.
      await store.applyMemberChanges('spring', change('add', { kind: 'user_id', value: 'u-2' }, [h(9)]), now);

      const left = SEED.filter((r) => !['alice@example.com', '-1327484737295091692', '77'].includes(r.key)).map((r) =>
        r.key === 'u-2' ? { ...r, hashes: [['email', h(9)]] as [IdentityType, string][] } : r,
      );
      expect(await legacy.ledger()).toEqual(ledgerOf(left, newKey));
      expect(await legacy.counts()).toEqual(countsOf(left));
      for (const a of AUDIENCES) expect(await store.countMembers(a)).toBe(countsOf(left)[a]);
    });

    it('refuses to convert without TAILOR_SECRET_KEY, naming it, and changes nothing', async () => {
      legacy = await dialect.build(SEED);
      const refused = await legacy.open({}).then(
        () => null,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(ConfigError);
      expect(String((refused as Error).message)).toMatch(/TAILOR_SECRET_KEY: is required to apply migration 0005/);
      expect(await legacy.version()).toBe(4);
      expect(await legacy.ledger()).toEqual(ledgerOf(SEED, (r) => r.key));
      // Given the key, the same database converts.
      await legacy.open(WITH_KEY);
      expect(await legacy.ledger()).toEqual(ledgerOf(SEED, newKey));
    });

    it('tailor migrate without TAILOR_SECRET_KEY exits 2 naming it and changes nothing; with it, converts', async () => {
      legacy = await dialect.build(SEED);
      const refused = await migrateCli(legacy.url);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/TAILOR_SECRET_KEY: is required to apply migration 0005/);
      expect(await legacy.version()).toBe(4);
      const done = await migrateCli(legacy.url, SECRET);
      expect([done.code, done.stdout]).toEqual([0, 'Database is up to date.\n']);
      expect(await legacy.ledger()).toEqual(ledgerOf(SEED, newKey));
    });

    it('needs no key when nothing is keyed by a user id or an mpid', async () => {
      const identityOnly = SEED.filter((r) => r.kind === 'identity');
      legacy = await dialect.build(identityOnly);
      const store = await legacy.open({});
      expect(await legacy.version()).toBeGreaterThanOrEqual(5);
      expect(await legacy.ledger()).toEqual(ledgerOf(identityOnly, (r) => r.key));
      expect(await store.countMembers('spring')).toBe(1);
      expect(await store.countMembers('7622')).toBe(1);
    });
  });
}
