/**
 * Migration 0019 on both dialects: a database made by the schema before it (0001-0018), its
 * audience ledger written as 0018 wrote it (one `members` row per identity, in bytes; on
 * PostgreSQL with audience_members and hash_holders beside it), with members of every key kind,
 * all four identity types, a hash two members share and two audiences. After the store opens it,
 * the ledger is one row per member with the same identities, the holder counts are those of the
 * old rows, and the store goes on from that state: previews, lookups, removes and an erasure meet
 * the converted members, and a hash stays on X until its last holder leaves. A row 0018 could not
 * have written (an unknown identity type) makes the migration roll back whole.
 */

import { describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import { hashBytes, hashHex, memberKeyBytes } from '../../src/store/binary.ts';
import type { ClaimOptions, Store } from '../../src/store/port.ts';
import { ledgerRows } from '../support/ledger-rows.ts';
import { buildOldSqliteFile } from '../support/old-sqlite.ts';
import { h } from './helpers.ts';
import { buildOldPostgres } from '../support/old-postgres.ts';

const now = 1_700_000_000_000;
const USER = `user:${'ab'.repeat(32)}`;
const MPID = `mpid:${'cd'.repeat(32)}`;
const DEVICE = `device_id:${h(3)}`;
const ODD = 'u1'; // not <kind>:<64 hex>: kept as a 0 byte and its text since 0009

/** [audience, type, hash, member key] as 0018 stored them (hash and key as bytes). */
const MEMBERS: [string, string, string, string][] = [
  ['aud', 'email', h(1), USER],
  ['aud', 'handle', h(2), USER],
  ['aud', 'phone_number', h(5), USER],
  ['aud', 'email', h(1), MPID], // h(1): two holders
  ['aud', 'device_id', h(3), DEVICE],
  ['aud', 'email', h(4), ODD],
  ['other', 'email', h(1), USER], // the same member key and hash in another audience
];
const ROWS = MEMBERS.map((m) => m.join(' ')).sort();
const HOLDERS = new Map([
  [`aud email ${h(1)}`, 2],
  [`aud handle ${h(2)}`, 1],
  [`aud phone_number ${h(5)}`, 1],
  [`aud device_id ${h(3)}`, 1],
  [`aud email ${h(4)}`, 1],
  [`other email ${h(1)}`, 1],
]);

const claimOpts = (at: number): ClaimOptions => ({
  owner: 'w1',
  now: at,
  leaseMs: 30_000,
  flushIntervalMs: 10_000,
  fullBatch: 1000,
  maxChanges: 1000,
  refreshIntervalMs: 3_600_000_000,
});

interface Built {
  open(): Promise<Store>;
  /** The ledger as (audience type hash key) lines, and the holder counts, whatever the layout. */
  ledger(): Promise<{ rows: string[]; holders: Map<string, number> }>;
  /** members rows per member, 0019's one-row-per-member form: each holds at least one identity. */
  memberRows(): Promise<number>;
  version(): Promise<number>;
  cleanup(): Promise<void>;
}

/** The rows both dialects get, in SQL both spell alike ($n placeholders rewritten for SQLite). */
function seedStatements(bad: boolean): [string, unknown[]][] {
  const s: [string, unknown[]][] = [
    ["INSERT INTO configurations (id, name, account_id, tokens, created_at, updated_at) VALUES ('c', 'c', 'acc', 't', $1, $1)", [now]],
    ["INSERT INTO audiences (id, name, created_at, updated_at, member_count) VALUES ('aud', 'Aud', $1, $1, 4), ('other', 'Other', $1, $1, 1)", [now]],
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
      [id, type, `x${id}`, downstreamName('Aud', type, 1), 1, now],
    ]);
  }
  // On X, confirmed: the email and handle hashes, and the device id.
  for (const [d, x] of [
    [1, h(1)],
    [1, h(4)],
    [2, h(2)],
    [3, h(3)],
  ] as const)
    s.push(['INSERT INTO x_members (downstream_id, hash, confirmed, confirmed_at) VALUES ($1, $2, $3, $4)', [d, hashBytes(x), true, now]]);
  const rows = bad ? [...MEMBERS, ['aud', 'fax', h(7), ODD] as [string, string, string, string]] : MEMBERS;
  for (const [a, t, x, k] of rows)
    s.push(['INSERT INTO members (audience_id, identity_type, hash, member_key) VALUES ($1, $2, $3, $4)', [a, t, hashBytes(x), memberKeyBytes(k)]]);
  return s;
}

const lines = (rows: Record<string, unknown>[]): string[] =>
  ledgerRows(rows)
    .map((r) => [r.audience_id, r.identity_type, r.hash, r.member_key].join(' '))
    .sort();
const holderMap = (rows: { audience_id: string; identity_type: string; hash: Buffer; holders: number | string }[]): Map<string, number> =>
  new Map(rows.map((r) => [`${r.audience_id} ${r.identity_type} ${hashHex(r.hash)}`, Number(r.holders)]));

async function sqliteBuilt(bad = false): Promise<Built> {
  const db = buildOldSqliteFile(18, seedStatements(bad));
  const { read } = db;
  return {
    ...db,
    ledger: async () =>
      read((d) => {
        const rows = lines(d.prepare('SELECT * FROM members').all() as Record<string, unknown>[]);
        const hasHolders = d.prepare("SELECT 1 FROM sqlite_master WHERE name = 'hash_holders'").get() !== undefined;
        const holders = hasHolders
          ? holderMap(d.prepare('SELECT * FROM hash_holders').all() as { audience_id: string; identity_type: string; hash: Buffer; holders: number }[])
          : holderMap(
              d.prepare('SELECT audience_id, identity_type, hash, COUNT(*) AS holders FROM members GROUP BY 1, 2, 3').all() as {
                audience_id: string;
                identity_type: string;
                hash: Buffer;
                holders: number;
              }[],
            );
        return { rows, holders };
      }),
    memberRows: async () => read((d) => d.prepare('SELECT COUNT(*) FROM members WHERE length(identities) > 0').pluck().get() as number),
  };
}

async function postgresBuilt(bad = false): Promise<Built> {
  const db = await buildOldPostgres(18, [
    ...seedStatements(bad),
    // What 0018's ledger kept beside the rows: one audience_members row per member, holder counts.
    ['INSERT INTO audience_members (audience_id, member_key) SELECT DISTINCT audience_id, member_key FROM members', []],
    [
      'INSERT INTO hash_holders (audience_id, identity_type, hash, holders) SELECT audience_id, identity_type, hash, count(*) FROM members GROUP BY 1, 2, 3',
      [],
    ],
  ]);
  const { pool } = db;
  return {
    ...db,
    async ledger() {
      const rows = lines((await pool.query('SELECT * FROM members')).rows);
      return { rows, holders: holderMap((await pool.query('SELECT * FROM hash_holders')).rows) };
    },
    memberRows: async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM members WHERE length(identities) > 0')).rows[0]!.n,
  };
}

describe.each([
  ['sqlite', sqliteBuilt],
  ['postgres', postgresBuilt],
] as const)('migration 0019: one members row per member (%s)', (_name, build) => {
  it('keeps every identity of every member and the holder counts, and the store goes on from them', async () => {
    const db = await build();
    try {
      expect(await db.version()).toBe(18);
      const before = await db.ledger();
      expect(before.rows).toEqual(ROWS);
      expect(before.holders).toEqual(HOLDERS);

      const store = await db.open();
      expect(await db.version()).toBeGreaterThanOrEqual(19);
      expect(await db.ledger()).toEqual(before);
      expect(await db.memberRows()).toBe(5); // USER, MPID, DEVICE, ODD in aud; USER in other
      expect((await store.listAudiences()).map((a) => [a.id, a.members])).toEqual([
        ['aud', 4],
        ['other', 1],
      ]);

      // A dry run reads the converted member: the user's add of the same set changes nothing.
      expect(
        await store.previewMemberChanges('aud', [
          {
            memberKey: USER,
            action: 'add',
            identities: [
              { type: 'email', hash: h(1) },
              { type: 'handle', hash: h(2) },
              { type: 'phone_number', hash: h(5) },
            ],
          },
        ]),
      ).toEqual({
        email: { add: 0, remove: 0, alreadyPresent: 1, xAdd: 0, xRemove: 0 },
        handle: { add: 0, remove: 0, alreadyPresent: 1, xAdd: 0, xRemove: 0 },
        phone_number: { add: 0, remove: 0, alreadyPresent: 1, xAdd: 0, xRemove: 0 },
      });
      // The lookup counts the holders the migration counted.
      const found = await store.lookup([{ type: 'email', hash: h(1) }]);
      expect([...new Set(found.map((r) => `${r.audienceId} ${r.holders}`))].sort()).toEqual(['aud 2', 'other 1']);

      // The user leaves aud: its handle had no other holder (a remove), its email has the mpid's (nothing).
      await store.applyMemberChanges('aud', [{ memberKey: USER, action: 'remove', identities: [] }], now + 1000);
      const claimed = await store.claim(claimOpts(now + 60_000));
      expect(claimed?.task).toBe('send');
      expect(claimed?.downstream.id).toBe(2);
      expect(claimed?.changes).toEqual([{ hash: h(2), op: 'remove' }]);
      await store.settleSent(2, claimed!.leaseToken, { sent: claimed!.changes, rejectedHashes: [] }, now + 60_000);
      expect(await store.claim(claimOpts(now + 120_000))).toBeNull();

      // An erasure by the shared email finds the converted mpid member: now the last holder goes, and X is told.
      const { erasure } = await store.erase(
        { requestKey: 'e1', source: 'api', memberKeys: [], identities: [{ type: 'email', hash: h(1) }] },
        now + 130_000,
        'admin_token',
      );
      expect(erasure.membersErased).toBe(2); // the mpid in aud, the user in other
      const after = await db.ledger();
      expect(after.rows).toEqual([`aud device_id ${h(3)} ${DEVICE}`, `aud email ${h(4)} ${ODD}`]);
      expect(after.holders).toEqual(
        new Map([
          [`aud device_id ${h(3)}`, 1],
          [`aud email ${h(4)}`, 1],
        ]),
      );
      const removal = await store.claim(claimOpts(now + 200_000));
      expect(removal?.downstream.id).toBe(1);
      expect(removal?.changes).toEqual([{ hash: h(1), op: 'remove' }]);
      expect((await store.listAudiences()).map((a) => [a.id, a.members])).toEqual([
        ['aud', 2],
        ['other', 0],
      ]);
    } finally {
      await db.cleanup();
    }
  });

  it('rolls back whole on a row 0018 could not have written, leaving the database as it was', async () => {
    const db = await build(true);
    try {
      const before = await db.ledger();
      await expect(db.open()).rejects.toThrow();
      expect(await db.version()).toBe(18);
      expect(await db.ledger()).toEqual(before);
    } finally {
      await db.cleanup();
    }
  });
});
