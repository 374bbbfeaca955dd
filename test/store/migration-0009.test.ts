/**
 * Migration 0009 on both dialects: a database made by the schema before it (0001-0008), holding
 * members of every key kind, confirmed and uncertain X ledger rows and pending and in-flight
 * outbox rows, written as 0008 wrote them (hex text). After the store opens it, every row is there
 * exactly (read back through src/store/binary.ts), and the store goes on from that state: the
 * pending changes are claimed with the same hashes, and a member's remove meets its rows.
 */
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import { hashHex, memberKeyText } from '../../src/store/binary.ts';
import type { ClaimOptions, Store } from '../../src/store/port.ts';
import { h } from './helpers.ts';
import { buildOldPostgres } from '../support/old-postgres.ts';
import { ledgerRows } from '../support/ledger-rows.ts';
import { buildOldSqliteFile } from '../support/old-sqlite.ts';

const now = 1_700_000_000_000;
const USER = `user:${'ab'.repeat(32)}`;
const MPID = `mpid:${'cd'.repeat(32)}`;
const DEVICE = `device_id:${h(3)}`;
const ODD = 'u1'; // not <kind>:<64 hex> (a port caller may pass any string): kept as text bytes

/** [audience, type, hash, member key] as 0008 stored them. */
const MEMBERS: [string, string, string, string][] = [
  ['aud', 'email', h(1), USER],
  ['aud', 'handle', h(2), USER],
  ['aud', 'email', h(1), MPID],
  ['aud', 'device_id', h(3), DEVICE],
  ['aud', 'email', h(4), ODD],
];
/** [downstream, hash, confirmed, confirmed_at]: confirmed, uncertain (a batch never settled), confirmed. */
const X_MEMBERS: [number, string, boolean, number | null][] = [
  [1, h(1), true, now - 5000],
  [1, h(9), false, null],
  [2, h(2), true, now - 4000],
];
/** [downstream, hash, op, enqueued_at, claim_token]: pending, and in flight under a token. */
const OUTBOX: [number, string, string, number, string | null][] = [
  [1, h(4), 'add', now - 2000, null],
  [1, h(9), 'remove', now - 3000, 'tok'],
];

interface Dump {
  members: string[];
  x: string[];
  outbox: string[];
}
const dumpOf = (m: Record<string, unknown>[], x: Record<string, unknown>[], o: Record<string, unknown>[]): Dump => {
  const text = (v: unknown): string => (typeof v === 'string' ? v : hashHex(v as Buffer));
  return {
    // One row per identity until 0019, one per member since (test/support/ledger-rows.ts).
    members: ledgerRows(m)
      .map((r) => [r.audience_id, r.identity_type, r.hash, r.member_key].join(' '))
      .sort(),
    x: x.map((r) => [Number(r.downstream_id), text(r.hash), Boolean(r.confirmed), r.confirmed_at === null ? 'null' : Number(r.confirmed_at)].join(' ')).sort(),
    outbox: o.map((r) => [Number(r.downstream_id), text(r.hash), r.op, Number(r.enqueued_at), r.claim_token ?? 'null'].join(' ')).sort(),
  };
};
const EXPECTED = dumpOf(
  MEMBERS.map(([audience_id, identity_type, hash, member_key]) => ({ audience_id, identity_type, hash, member_key })),
  X_MEMBERS.map(([downstream_id, hash, confirmed, confirmed_at]) => ({ downstream_id, hash, confirmed, confirmed_at })),
  OUTBOX.map(([downstream_id, hash, op, enqueued_at, claim_token]) => ({ downstream_id, hash, op, enqueued_at, claim_token })),
);

const claimOpts: ClaimOptions = {
  owner: 'w1',
  now: now + 60_000,
  leaseMs: 30_000,
  flushIntervalMs: 10_000,
  fullBatch: 1000,
  maxChanges: 1000,
  refreshIntervalMs: 3_600_000,
};

interface Built {
  open(): Promise<Store>;
  dump(): Promise<Dump>;
  version(): Promise<number>;
  cleanup(): Promise<void>;
}

/** The rows every dialect gets, in SQL both spell alike ($n placeholders rewritten for SQLite). */
function seedStatements(): [string, unknown[]][] {
  const s: [string, unknown[]][] = [
    ["INSERT INTO configurations (id, name, account_id, tokens, created_at, updated_at) VALUES ('c', 'c', 'acc', 't', $1, $1)", [now]],
    ["INSERT INTO audiences (id, name, created_at, updated_at, member_count) VALUES ('aud', 'Aud', $1, $1, 4)", [now]],
    [
      'INSERT INTO connections (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, created_at, updated_at) VALUES ($1, $2, $3, $3, $3, $4, $4)',
      ['aud', 'c', 1, now],
    ],
  ];
  for (const [id, type] of [
    [1, 'email'],
    [2, 'handle'],
    [3, 'device_id'],
  ] as const) {
    s.push([
      `INSERT INTO downstreams (id, audience_id, configuration_id, identity_type, state, x_audience_id, x_name, members, created_at, updated_at, refreshed_at)
       VALUES ($1, 'aud', 'c', $2, 'active', $3, $4, $5, $6, $6, $6)`,
      [id, type, `x${id}`, downstreamName('Aud', type, 1), id === 3 ? 0 : 1, now],
    ]);
  }
  for (const r of MEMBERS) s.push(['INSERT INTO members (audience_id, identity_type, hash, member_key) VALUES ($1, $2, $3, $4)', r]);
  for (const [d, x, confirmed, at] of X_MEMBERS)
    s.push(['INSERT INTO x_members (downstream_id, hash, confirmed, confirmed_at) VALUES ($1, $2, $3, $4)', [d, x, confirmed, at]]);
  for (const r of OUTBOX) s.push(['INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token) VALUES ($1, $2, $3, $4, $5)', r]);
  return s;
}

async function sqliteBuilt(): Promise<Built> {
  const db = buildOldSqliteFile(8, seedStatements());
  const { read } = db;
  return {
    ...db,
    dump: async () =>
      read((d) =>
        dumpOf(
          d.prepare('SELECT * FROM members').all() as Record<string, unknown>[],
          d.prepare('SELECT * FROM x_members').all() as Record<string, unknown>[],
          d.prepare('SELECT * FROM outbox').all() as Record<string, unknown>[],
        ),
      ),
    async cleanup() {
      expect(statSync(db.path).size).toBeGreaterThan(0);
      await db.cleanup();
    },
  };
}

async function postgresBuilt(): Promise<Built> {
  const db = await buildOldPostgres(8, [
    ...seedStatements(),
    // What 0008's ledger kept beside the rows: one audience_members row per member, holder counts.
    ...[...new Set(MEMBERS.map((m) => m[3]))].map((k): [string, unknown[]] => [
      "INSERT INTO audience_members (audience_id, member_key) VALUES ('aud', $1)",
      [k],
    ]),
    [
      'INSERT INTO hash_holders (audience_id, identity_type, hash, holders) SELECT audience_id, identity_type, hash, count(*) FROM members GROUP BY 1, 2, 3',
      [],
    ],
  ]);
  const { pool } = db;
  return {
    ...db,
    async dump() {
      const d = dumpOf(
        (await pool.query('SELECT * FROM members')).rows,
        (await pool.query('SELECT * FROM x_members')).rows,
        (await pool.query('SELECT * FROM outbox')).rows,
      );
      // The ledger's companions converted alike: every member once (audience_members until 0019,
      // the members rows themselves since), holder counts unmoved.
      const version = (await pool.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]!.v;
      const am = (
        await pool.query<{ member_key: Buffer | string }>(version >= 19 ? 'SELECT member_key FROM members' : 'SELECT member_key FROM audience_members')
      ).rows;
      const members = d.members.map((m) => m.split(' '));
      expect(am.map((r) => (typeof r.member_key === 'string' ? r.member_key : memberKeyText(r.member_key))).sort()).toEqual(
        [...new Set(members.map((m) => m[3]))].sort(),
      );
      const holders = (await pool.query<{ identity_type: string; hash: Buffer | string; holders: number }>('SELECT * FROM hash_holders')).rows;
      const counted = new Map<string, number>();
      for (const m of members) counted.set(`${m[1]} ${m[2]}`, (counted.get(`${m[1]} ${m[2]}`) ?? 0) + 1);
      expect(new Map(holders.map((r) => [`${r.identity_type} ${typeof r.hash === 'string' ? r.hash : hashHex(r.hash)}`, r.holders]))).toEqual(counted);
      return d;
    },
  };
}

describe.each([
  ['sqlite', sqliteBuilt],
  ['postgres', postgresBuilt],
] as const)('migration 0009: binary hashes and member keys (%s)', (_name, build) => {
  it('keeps members, X ledger states and the outbox exactly, and the store goes on from them', async () => {
    const db = await build();
    try {
      expect(await db.version()).toBe(8);
      expect(await db.dump()).toEqual(EXPECTED);
      const store = await db.open();
      expect(await db.version()).toBeGreaterThanOrEqual(9);
      expect(await db.dump()).toEqual(EXPECTED);
      expect((await store.listAudiences()).find((a) => a.id === 'aud')?.members).toBe(4);

      // The outbox as it was: the in-flight remove (its lease is gone) and the pending add, oldest first.
      const first = await store.claim(claimOpts);
      expect(first?.downstream.id).toBe(1);
      expect(first?.changes).toEqual([
        { hash: h(9), op: 'remove' },
        { hash: h(4), op: 'add' },
      ]);
      await store.settleSent(1, first!.leaseToken, { sent: first!.changes, rejectedHashes: [] }, now + 60_000);

      // The user's remove meets its converted rows: its handle had no other holder, its email has the mpid's.
      await store.applyMemberChanges('aud', [{ memberKey: USER, action: 'remove', identities: [] }], now + 61_000);
      const after = await db.dump();
      expect(after.members).toEqual(EXPECTED.members.filter((m) => !m.endsWith(USER)));
      expect(after.outbox).toEqual([`2 ${h(2)} remove ${now + 61_000} null`]);
      expect(after.x).toEqual([`1 ${h(1)} true ${now - 5000}`, `1 ${h(4)} true ${now + 60_000}`, `2 ${h(2)} true ${now - 4000}`]);
      expect((await store.listAudiences()).find((a) => a.id === 'aud')?.members).toBe(3);
    } finally {
      await db.cleanup();
    }
  });
});
