/**
 * Migration 0023 on both dialects: a database as 0022 left it (the X ledger with its index by
 * confirmation time) gets each downstream audience's bound of its oldest confirmation from its
 * rows (unconfirmed rows do not count; none confirmed: no bound), loses the index, and the store
 * goes on from there: nextDueAt is the bound's due time, and a renewal pass takes what is due in
 * hash order and nothing else.
 */

import { describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import { hashBytes } from '../../src/store/binary.ts';
import type { ClaimOptions, Store } from '../../src/store/port.ts';
import { buildOldSqliteFile } from '../support/old-sqlite.ts';
import { h } from './helpers.ts';
import { buildOldPostgres } from '../support/old-postgres.ts';

const now = 1_700_000_000_000;
const RENEW = 1_000_000;
const FLUSH = 10_000;
const opts = (at: number): ClaimOptions => ({
  owner: 'w1',
  now: at,
  leaseMs: 30_000,
  flushIntervalMs: FLUSH,
  fullBatch: 1000,
  maxChanges: 1000,
  refreshIntervalMs: 1e12,
  renewAfterMs: RENEW,
});

/** Downstream 1: confirmed at now+50,000, +1 (the oldest), +2, and an uncertain row older still; 2: uncertain only. */
const LEDGER: [number, string, boolean, number | null][] = [
  [1, h(1), true, now + 50_000],
  [1, h(2), true, now + 1],
  [1, h(3), true, now + 2],
  [1, h(4), false, now - 5],
  [2, h(5), false, null],
];

function seedStatements(): [string, unknown[]][] {
  const s: [string, unknown[]][] = [
    ["INSERT INTO configurations (id, name, account_id, tokens, created_at, updated_at) VALUES ('c', 'c', 'acc', 't', $1, $1)", [now]],
    ["INSERT INTO audiences (id, name, created_at, updated_at, member_count) VALUES ('aud', 'Aud', $1, $1, 5)", [now]],
    [
      'INSERT INTO connections (audience_id, configuration_id, forward_emails, forward_handles, forward_device_ids, created_at, updated_at) VALUES ($1, $2, $3, $4, $4, $5, $5)',
      ['aud', 'c', 1, 0, now],
    ],
  ];
  for (const [id, type] of [
    [1, 'email'],
    [2, 'handle'],
  ] as const)
    s.push([
      `INSERT INTO downstreams (id, audience_id, configuration_id, identity_type, state, x_audience_id, x_name, members, created_at, updated_at, refreshed_at)
       VALUES ($1, 'aud', 'c', $2, 'active', $3, $4, $5, $6, $6, $6)`,
      [id, type, `x${id}`, downstreamName('Aud', type, 1), id === 1 ? 3 : 0, now],
    ]);
  for (const [d, x, confirmed, at] of LEDGER) {
    s.push(['INSERT INTO x_members (downstream_id, hash, confirmed, confirmed_at) VALUES ($1, $2, $3, $4)', [d, hashBytes(x), confirmed, at]]);
    s.push([
      'INSERT INTO hash_holders (audience_id, identity_type, hash, holders) VALUES ($1, $2, $3, 1)',
      ['aud', d === 1 ? 'email' : 'handle', hashBytes(x)],
    ]);
  }
  return s;
}

interface Built {
  open(): Promise<Store>;
  version(): Promise<number>;
  /** Whether the index by confirmation time is there, and each downstream's bound (undefined: no column). */
  layout(): Promise<{ index: boolean; bounds: (number | null | undefined)[] }>;
  cleanup(): Promise<void>;
}

async function sqliteBuilt(): Promise<Built> {
  const db = buildOldSqliteFile(22, seedStatements());
  return {
    ...db,
    layout: async () =>
      db.read((d) => ({
        index: d.prepare("SELECT 1 FROM sqlite_master WHERE name = 'x_members_by_confirmed_at'").get() !== undefined,
        bounds: (d.prepare('SELECT * FROM downstreams ORDER BY id').all() as { renew_bound?: number | null }[]).map((r) => r.renew_bound),
      })),
  };
}

async function postgresBuilt(): Promise<Built> {
  const db = await buildOldPostgres(22, seedStatements());
  const { pool } = db;
  return {
    ...db,
    async layout() {
      const index = (await pool.query("SELECT 1 FROM pg_indexes WHERE indexname = 'x_members_by_confirmed_at'")).rowCount === 1;
      const rows = (await pool.query<{ renew_bound?: string | null }>('SELECT * FROM downstreams ORDER BY id')).rows;
      return { index, bounds: rows.map((r) => (r.renew_bound === undefined || r.renew_bound === null ? r.renew_bound : Number(r.renew_bound))) };
    },
  };
}

describe.each([
  ['sqlite', sqliteBuilt],
  ['postgres', postgresBuilt],
] as const)('migration 0023: the renewal bound per downstream audience (%s)', (_name, build) => {
  it('computes each bound from the rows, drops the index, and renewals go on from the bound', async () => {
    const db = await build();
    try {
      expect(await db.version()).toBe(22);
      expect(await db.layout()).toEqual({ index: true, bounds: [undefined, undefined] });
      const store = await db.open();
      expect(await db.version()).toBe(23);
      expect(await db.layout()).toEqual({ index: false, bounds: [now + 1, null] });

      const dueOpts = { flushIntervalMs: FLUSH, refreshIntervalMs: 1e12, renewAfterMs: RENEW };
      expect(await store.nextDueAt({ now, ...dueOpts })).toBe(now + 1 + RENEW);
      expect(await store.claim(opts(now + RENEW))).toBeNull();
      // The pass: h(2) is due, h(1) and h(3) are not yet; the uncertain h(4) is no renewal.
      const c = (await store.claim(opts(now + 2 + RENEW)))!;
      expect([c.downstream.id, c.changes, c.renewals]).toEqual([1, [], [h(2), h(3)]]);
      await store.settleSent(1, c.leaseToken, { sent: [], renewed: c.renewals, rejectedHashes: [] }, now + 2 + RENEW);
      // Its end, a step later, leaves h(1) behind: the next pass is due by it.
      expect(await store.claim(opts(now + 2 + RENEW + FLUSH))).toBeNull();
      expect(await store.nextDueAt({ now: now + 2 + RENEW + FLUSH, ...dueOpts })).toBe(now + 50_000 + RENEW);
    } finally {
      await db.cleanup();
    }
  });
});
