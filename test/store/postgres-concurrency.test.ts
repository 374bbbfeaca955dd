/**
 * PostgreSQL under concurrency: two stores (two pools, as two processes would have) writing and
 * claiming at once. Exactness is judged against a model of the ledger, and against a fake X that
 * applies exactly what the store asked it to.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Claim, ClaimOptions, MemberChange, Store } from '../../src/store/port.ts';
import { downstreamName } from '../../src/core/names.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import type { IdentityType } from '../../src/core/terms.ts';
import { h } from './helpers.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';
import { ledgerRows } from '../support/ledger-rows.ts';

const ALL_ON = { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false };
const now = 1_000_000;
const opts = (over: Partial<ClaimOptions> = {}): ClaimOptions => ({
  owner: 'w',
  now: now + 60_000,
  leaseMs: 30_000,
  flushIntervalMs: 0,
  fullBatch: 1000,
  maxChanges: 1000,
  refreshIntervalMs: 3_600_000_000,
  ...over,
});

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('postgres store under concurrency (two pools)', () => {
  let db: TestDatabase;
  let a: Store;
  let b: Store;
  let configId: string;

  beforeEach(async () => {
    db = await createTestDatabase();
    a = await openPostgresStore(db.url);
    b = await openPostgresStore(db.url);
    ({
      configuration: { id: configId },
    } = await a.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, now, 'cli'));
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  /** Creates the audiences and connects them; their X audiences are created with their first members (store/creation.ts). */
  async function audiences(ids: string[]): Promise<void> {
    for (const id of ids) {
      await a.putAudience(id, id, now, 'admin_token');
      await a.putConnection(id, configId, ALL_ON, now, 'admin_token');
    }
  }

  it('migrations: processes starting together migrate once and share one installation id', async () => {
    const fresh = await createTestDatabase();
    try {
      const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore(fresh.url)));
      const ids = new Set(await Promise.all(stores.map((s) => s.installationId())));
      expect(ids.size).toBe(1);
      await Promise.all(stores.map((s) => s.close()));
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      const versions = await client.query('SELECT version FROM schema_migrations ORDER BY version');
      await client.end();
      expect(versions.rows.map((r: { version: number }) => r.version)).toEqual([...new Set(versions.rows.map((r: { version: number }) => r.version))]);
      expect(versions.rows[0]).toEqual({ version: 1 });
    } finally {
      await fresh.drop();
    }
  });

  it('two stores claiming at once never get the same downstream audience', async () => {
    const all: MemberChange = {
      memberKey: 'm',
      action: 'add',
      identities: [
        { type: 'email', hash: h(1) },
        { type: 'handle', hash: h(2) },
        { type: 'device_id', hash: h(3) },
      ],
    };
    for (let i = 0; i < 8; i += 1) {
      await a.putAudience(`a${i}`, `A${i}`, now, 'admin_token');
      await a.putConnection(`a${i}`, configId, ALL_ON, now, 'admin_token');
      await a.applyMemberChanges(`a${i}`, [all], now);
    }
    // 24 downstream audiences need creating for their first member; 16 claimers race for them, none settles.
    const claimed: number[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const store = i % 2 === 0 ? a : b;
        for (;;) {
          const c = await store.claim(opts({ owner: `w${i}` }));
          if (!c) return;
          claimed.push(c.downstream.id);
        }
      }),
    );
    expect(claimed).toHaveLength(24);
    expect(new Set(claimed).size).toBe(24);
  });

  it('one batch in flight per downstream audience: sends race, each change is claimed by one worker at a time', async () => {
    await audiences(['s']);
    const changes: MemberChange[] = Array.from({ length: 300 }, (_, i) => ({ memberKey: `m${i}`, action: 'add', identities: [{ type: 'email', hash: h(i) }] }));
    await a.applyMemberChanges('s', changes, now);
    const inFlight = new Set<number>();
    const sent: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const store = i % 2 === 0 ? a : b;
        for (;;) {
          const c = await store.claim(opts({ owner: `w${i}`, maxChanges: 50 }));
          if (!c) return;
          expect(inFlight.has(c.downstream.id)).toBe(false);
          inFlight.add(c.downstream.id);
          await new Promise((r) => setTimeout(r, 2));
          sent.push(...c.changes.map((x) => x.hash));
          inFlight.delete(c.downstream.id);
          expect(await settle(new Map(), store, c)).toBe(true);
        }
      }),
    );
    expect(sent.sort()).toEqual(changes.map((c) => c.identities[0]!.hash).sort());
  });

  it('the first holder added while the last holder leaves: the hash stays on X', async () => {
    await audiences(['r']);
    const n = 40;
    await a.applyMemberChanges(
      'r',
      Array.from({ length: n }, (_, i) => ({ memberKey: `old${i}`, action: 'add' as const, identities: [{ type: 'email' as const, hash: h(i) }] })),
      now,
    );
    const x: FakeX = new Map();
    await drain(x, a, b);
    // For each hash at once: one store adds a new holder, the other removes the only one.
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        Promise.all([
          a.applyMemberChanges('r', [{ memberKey: `new${i}`, action: 'add', identities: [{ type: 'email', hash: h(i) }] }], now),
          b.applyMemberChanges('r', [{ memberKey: `old${i}`, action: 'remove', identities: [] }], now),
        ]),
      ),
    );
    await drain(x, a, b);
    const email = [...x.values()].find((s) => s.type === 'email')!;
    expect([...email.hashes].sort()).toEqual(Array.from({ length: n }, (_, i) => h(i)).sort());
    expect(await a.countMembers('r')).toBe(n);
  });

  it('concurrent ingest, claims and settles on shared hashes end with X holding exactly the held hashes', async () => {
    await audiences(['p', 'q']);
    const random = rng(42);
    const types: IdentityType[] = ['email', 'handle', 'device_id'];
    // Few hashes, many members: most hashes are shared, and members flap between them.
    const identity = (): { type: IdentityType; hash: string } => ({ type: types[Math.floor(random() * 3)]!, hash: h(1 + Math.floor(random() * 25)) });
    const batch = (members: string[]): MemberChange[] =>
      Array.from({ length: 1 + Math.floor(random() * 30) }, () => {
        const memberKey = members[Math.floor(random() * members.length)]!;
        if (random() < 0.3) return { memberKey, action: 'remove' as const, identities: [] };
        return { memberKey, action: 'add' as const, identities: Array.from({ length: Math.floor(random() * 3) }, identity) };
      });
    // Two ingest streams per audience: members m0..m29 belong to one stream each, and s0..s9 are
    // shared by both (their final state is one stream's last word for them, never a mixture).
    const own = (k: number) => Array.from({ length: 30 }, (_, i) => `m${k}-${i}`);
    const shared = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const model = new Map<string, Map<string, Set<string>>>(); // audience -> member -> "type hash"
    const finalsOfShared = new Map<string, Set<string>[]>(); // "audience member" -> candidate final sets
    const streams = ['p', 'q'].flatMap((aud) =>
      [0, 1].map((k) => {
        const batches = Array.from({ length: 25 }, () => batch([...own(k), ...shared]));
        // Each stream's own members end as its last change says.
        const last = new Map<string, Set<string>>();
        for (const changes of batches)
          for (const c of changes) last.set(c.memberKey, new Set(c.action === 'add' ? c.identities.map((i) => `${i.type} ${i.hash}`) : []));
        const m = model.get(aud) ?? new Map<string, Set<string>>();
        model.set(aud, m);
        for (const [member, set] of last) {
          if (member.startsWith('s')) finalsOfShared.set(`${aud} ${member}`, [...(finalsOfShared.get(`${aud} ${member}`) ?? []), set]);
          else m.set(member, set);
        }
        return { aud, store: k === 0 ? a : b, batches };
      }),
    );

    let ingesting = true;
    const fakeX: FakeX = new Map();
    const worker = async (store: Store, owner: string): Promise<void> => {
      while (ingesting) {
        const c = await store.claim(opts({ owner, maxChanges: 7 }));
        if (!c) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        await settle(fakeX, store, c);
      }
    };
    const workers = [worker(a, 'wa1'), worker(a, 'wa2'), worker(b, 'wb1'), worker(b, 'wb2')];
    await Promise.all(
      streams.map(async (s) => {
        for (const changes of s.batches) await s.store.applyMemberChanges(s.aud, changes, now);
      }),
    );
    ingesting = false;
    await Promise.all(workers);
    await drain(fakeX, a, b);

    for (const aud of ['p', 'q']) {
      // Shared members: each ended with one stream's final set, whole.
      const pgc = new pg.Client({ connectionString: db.url });
      await pgc.connect();
      // The rows as stored (binary since 0009), read back as the port spells them.
      const stored = await pgc.query('SELECT * FROM members WHERE audience_id = $1', [aud]);
      const rows = { rows: ledgerRows(stored.rows) };
      const holders = await pgc.query<{ identity_type: string; hash: string; holders: number }>(
        "SELECT identity_type, encode(hash, 'hex') AS hash, holders FROM hash_holders WHERE audience_id = $1",
        [aud],
      );
      await pgc.end();
      const actual = new Map<string, Set<string>>();
      for (const r of rows.rows) {
        const set = actual.get(r.member_key) ?? new Set<string>();
        set.add(`${r.identity_type} ${r.hash}`);
        actual.set(r.member_key, set);
      }
      const expected = model.get(aud)!;
      for (const [member, set] of expected) expect([member, [...(actual.get(member) ?? [])].sort()]).toEqual([member, [...set].sort()]);
      for (const member of shared) {
        const got = [...(actual.get(member) ?? [])].sort().join(',');
        const candidates = (finalsOfShared.get(`${aud} ${member}`) ?? []).map((s) => [...s].sort().join(','));
        expect(candidates).toContain(got);
      }
      // Holder counts agree with the ledger rows.
      const counted = new Map<string, number>();
      for (const r of rows.rows) counted.set(`${r.identity_type} ${r.hash}`, (counted.get(`${r.identity_type} ${r.hash}`) ?? 0) + 1);
      expect(new Map(holders.rows.map((r) => [`${r.identity_type} ${r.hash}`, r.holders]))).toEqual(counted);
      // X holds exactly the hashes some member holds, per type.
      const downs = await a.listDownstreams(aud);
      for (const d of downs) {
        const held = [...counted.keys()].filter((k) => k.startsWith(`${d.identityType} `)).map((k) => k.split(' ')[1]!);
        expect([d.identityType, [...(fakeX.get(d.id)?.hashes ?? [])].sort()]).toEqual([d.identityType, held.sort()]);
        expect([d.identityType, d.members, d.pending]).toEqual([d.identityType, held.length, 0]);
      }
      expect(await a.countMembers(aud)).toBe([...actual.keys()].length);
    }
  });

  it('member_count stays exact while two processes add and remove the same members at once', async () => {
    await a.putAudience('mc', 'mc', now, 'admin_token');
    const random = rng(11);
    // Four streams over six members: the same member is often joined by one stream while another
    // empties it, which is exactly where a count decided on a stale read would drift.
    const streams = [a, a, b, b].map((store) => {
      const batches: MemberChange[][] = Array.from({ length: 30 }, () =>
        Array.from({ length: 4 }, (): MemberChange => {
          const key = `k${Math.floor(random() * 6)}`;
          if (random() < 0.35) return { memberKey: key, action: 'remove', identities: [] };
          const n = Math.floor(random() * 3); // an add with no identity empties the member too
          return { memberKey: key, action: 'add', identities: Array.from({ length: n }, () => ({ type: 'email', hash: h(Math.floor(random() * 5)) })) };
        }),
      );
      return { store, batches };
    });
    await Promise.all(
      streams.map(async (s) => {
        for (const changes of s.batches) await s.store.applyMemberChanges('mc', changes, now);
      }),
    );
    const pgc = new pg.Client({ connectionString: db.url });
    await pgc.connect();
    // One members row per member (0019), and none left holding nothing (a member that left is deleted).
    const held = (await pgc.query<{ n: number }>('SELECT count(*)::int AS n FROM members WHERE audience_id = $1 AND length(identities) > 0', ['mc'])).rows[0]!
      .n;
    const rows = (await pgc.query<{ n: number }>('SELECT count(*)::int AS n FROM members WHERE audience_id = $1', ['mc'])).rows[0]!.n;
    await pgc.end();
    expect(rows).toBe(held);
    expect(await a.countMembers('mc')).toBe(held);
    expect((await b.listAudiences()).find((x) => x.id === 'mc')?.members).toBe(held);
  });

  it('the shared token bucket grants exactly the burst to many takers at once', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).takeRateToken('acc1:users', now, 60, 10)));
    expect(results.filter((w) => w === 0)).toHaveLength(10);
    expect(results.filter((w) => w > 0).every((w) => w <= 1000)).toBe(true);
  });

  it('an expired lease is taken over by the other process, whose settle alone counts', async () => {
    await audiences(['e']);
    await a.applyMemberChanges('e', [{ memberKey: 'm', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], now);
    const create = (await a.claim(opts()))!;
    expect(await settle(new Map(), a, create)).toBe(true);
    const first = (await a.claim(opts({ owner: 'dead' })))!;
    expect(await b.claim(opts({ owner: 'b' }))).toBeNull();
    const second = (await b.claim(opts({ owner: 'b', now: now + 60_000 + 31_000 })))!;
    expect(second.downstream.id).toBe(first.downstream.id);
    expect(await a.settleSent(first.downstream.id, first.leaseToken, { sent: first.changes, rejectedHashes: [] }, now)).toBe(false);
    expect(await a.release(first.downstream.id, first.leaseToken, { nextAttemptAt: 0, error: 'late', countAttempt: true, now })).toBe(false);
    expect(await b.settleSent(second.downstream.id, second.leaseToken, { sent: second.changes, rejectedHashes: [] }, now)).toBe(true);
  });

  it('wakes a listening store when another commits changes', async () => {
    await audiences(['w']);
    let woken = 0;
    const unsubscribe = b.onWake!(() => (woken += 1));
    // The store wakes its listeners once as soon as LISTEN is in place (changes may have come
    // before): that first wake-up says the channel is ready.
    await expect.poll(() => woken, { timeout: 5_000 }).toBeGreaterThan(0);
    const before = woken;
    await a.applyMemberChanges('w', [{ memberKey: 'm', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], now);
    await expect.poll(() => woken, { timeout: 5_000 }).toBeGreaterThan(before);
    unsubscribe();
  });
});

type FakeX = Map<number, { type: string; hashes: Set<string> }>;

/** What X holds after it applied a claimed batch. */
function settleInto(x: FakeX, c: { downstream: { id: number; identityType: string }; changes: { hash: string; op: 'add' | 'remove' }[] }): void {
  const into = x.get(c.downstream.id) ?? { type: c.downstream.identityType, hashes: new Set<string>() };
  x.set(c.downstream.id, into);
  for (const ch of c.changes) {
    if (ch.op === 'add') into.hashes.add(ch.hash);
    else into.hashes.delete(ch.hash);
  }
}

/** Settles a claim as X would answer it: a creation (an X audience due for its first members), or a batch applied to the fake X. */
async function settle(x: FakeX, store: Store, c: Claim): Promise<boolean> {
  if (c.task === 'create') {
    const created = { id: `x${c.downstream.id}`, name: downstreamName(c.audienceName!, c.downstream.identityType, 1), nameSuffix: 1 };
    return store.settleCreated(c.downstream.id, c.leaseToken, { ...created, audienceSize: null, targetable: false, reasonsNotTargetable: [] }, now);
  }
  expect(c.task).toBe('send');
  settleInto(x, c);
  return store.settleSent(c.downstream.id, c.leaseToken, { sent: c.changes, rejectedHashes: [] }, now);
}

/** Claims and settles everything due, alternating stores, applying each batch to the fake X. */
async function drain(x: FakeX, ...stores: Store[]): Promise<FakeX> {
  for (let i = 0; ; i += 1) {
    const store = stores[i % stores.length]!;
    const c = await store.claim(opts({ owner: 'drain' }));
    if (!c) return x;
    await settle(x, store, c);
  }
}
