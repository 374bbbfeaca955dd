/**
 * SQLite's erasure reads who holds an identity before its write transaction (privacy.ts
 * scanHolders: a scan in pieces, since 0019 keeps no index by hash), then checks that reading
 * against the holder counts under the write lock. Here the reading is made stale on purpose, as a
 * change committed between the scan and the transaction would make it: a holder it missed is found
 * again by the scan under the lock, and a member it found that no longer holds the identity is not
 * erased. Through the store, the scan runs in pieces over more members than one page.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { memberKeyBytes } from '../../src/store/binary.ts';
import type { HashedIdentity } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { SqliteLedger } from '../../src/store/sqlite/ledger.ts';
import { openSqlite } from '../../src/store/sqlite/open.ts';
import { erase, scanHolders } from '../../src/store/sqlite/privacy.ts';
import { STORES, h } from './helpers.ts';

const now = 1_700_000_000_000;
const E = (n: number): HashedIdentity => ({ type: 'email', hash: h(n) });
const add = (key: string, ...ids: HashedIdentity[]) => ({ memberKey: key, action: 'add' as const, identities: ids });

describe('SQLite erasure: the scan before the write lock, checked under it', () => {
  let dir: string;
  let db: Database.Database;
  let ledger: SqliteLedger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tailor-erase-scan-'));
    db = openSqlite(join(dir, 'tailor.db'));
    db.prepare("INSERT INTO audiences (id, name, created_at, updated_at) VALUES ('a', 'A', ?, ?)").run(now, now);
    ledger = new SqliteLedger(db);
    db.transaction(() => ledger.apply('a', [add('user:1', E(1), E(2)), add('user:2', E(1)), add('user:3', E(3))], now)).immediate();
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const keysLeft = (): string[] =>
    (db.prepare('SELECT member_key FROM members ORDER BY member_key').all() as { member_key: Buffer }[]).map((r) => r.member_key.toString('utf8', 1));

  it('finds what the scan read, and only where it is still true', async () => {
    const scanned = await scanHolders(db, [E(1)], async () => {});
    expect([...scanned.keys()]).toEqual([`a\nemail\n${h(1)}`]);
    expect(
      scanned
        .get(`a\nemail\n${h(1)}`)!
        .map((k) => k.toString('utf8', 1))
        .sort(),
    ).toEqual(['user:1', 'user:2']);
    // user:2 changes its e-mail after the scan: it no longer holds E(1), and is not erased.
    db.transaction(() => ledger.apply('a', [add('user:2', E(4))], now + 1)).immediate();
    const { erasure } = db
      .transaction(() => erase(db, ledger, { requestKey: 'k1', source: 'api', memberKeys: [], identities: [E(1)] }, now + 2, scanned))
      .immediate();
    expect(erasure.membersErased).toBe(1);
    expect(keysLeft()).toEqual(['user:2', 'user:3']);
  });

  it('a holder the scan missed (it arrived after) is found under the lock', async () => {
    const scanned = await scanHolders(db, [E(3)], async () => {});
    db.transaction(() => ledger.apply('a', [add('user:4', E(3))], now + 1)).immediate();
    const { erasure } = db
      .transaction(() => erase(db, ledger, { requestKey: 'k2', source: 'api', memberKeys: [], identities: [E(3)] }, now + 2, scanned))
      .immediate();
    expect(erasure.membersErased).toBe(2);
    expect(keysLeft()).toEqual(['user:1', 'user:2']);
  });

  it('an identity\u2019s bytes across two of a member\u2019s identities are not a match', async () => {
    // user:5 holds X and Y; bytes 20..52 of its identities (the end of X, then Y's type byte and
    // the start of Y) spell an e-mail identity F, which user:6 really holds.
    const x = `${'00'.repeat(19)}01${'ab'.repeat(12)}`; // byte 19 of X is 0x01: an e-mail's type byte
    const y = `${'cd'.repeat(20)}${'00'.repeat(12)}`;
    const f = `${'ab'.repeat(12)}01${'cd'.repeat(19)}`; // X's bytes 20..31, Y's type byte, Y's bytes 0..18
    db.transaction(() =>
      ledger.apply('a', [add('user:5', { type: 'email', hash: x }, { type: 'email', hash: y }), add('user:6', { type: 'email', hash: f })], now),
    ).immediate();
    const stored = db.prepare('SELECT identities FROM members WHERE member_key = ?').pluck().get(memberKeyBytes('user:5')) as Buffer;
    expect(stored.subarray(20, 53).toString('hex')).toBe(`01${f}`); // the bytes are there, across the boundary
    const scanned = await scanHolders(db, [{ type: 'email', hash: f }], async () => {});
    expect(scanned.get(`a\nemail\n${f}`)!.map((k) => k.toString('utf8', 1))).toEqual(['user:6']);
    const { erasure } = db
      .transaction(() => erase(db, ledger, { requestKey: 'k3', source: 'api', memberKeys: [], identities: [{ type: 'email', hash: f }] }, now + 2, scanned))
      .immediate();
    expect(erasure.membersErased).toBe(1);
    expect(keysLeft()).toEqual(['user:1', 'user:2', 'user:3', 'user:5']);
  });
});

describe('SQLite erasure through the store: a scan of more members than one page', () => {
  it('erases the one holder among 25,000 members, and the others stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-erase-scan-'));
    const store = SqliteStore.open(join(dir, 'tailor.db'));
    try {
      await store.putAudience('big', 'Big', now, 'admin_token');
      const members = Array.from({ length: 25_000 }, (_, i) => add(`user:${String(i).padStart(6, '0')}`, E(10 + i)));
      await store.applyMemberChanges('big', members, now);
      const { erasure } = await store.erase({ requestKey: 'k', source: 'api', memberKeys: [], identities: [E(10 + 17_321)] }, now + 1, 'admin_token');
      expect(erasure.membersErased).toBe(1);
      expect(await store.countMembers('big')).toBe(24_999);
      expect((await store.lookup([E(10 + 17_321)])).filter((r) => r.holders > 0)).toEqual([]);
      expect((await store.lookup([E(10 + 17_322)])).map((r) => r.holders)).toEqual([1]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const factory of STORES) {
  describe(`store contract: an erasure by identity matches whole identities only (${factory.name})`, () => {
    it('bytes of an identity that appear across two of another member\u2019s identities do not erase that member', async () => {
      const { store, cleanup } = await factory.open();
      try {
        await store.putAudience('a', 'A', now, 'admin_token');
        const x = `${'00'.repeat(19)}01${'ab'.repeat(12)}`;
        const y = `${'cd'.repeat(20)}${'00'.repeat(12)}`;
        const f = `${'ab'.repeat(12)}01${'cd'.repeat(19)}`; // X's last 12 bytes, Y's type byte, Y's first 19 bytes
        await store.applyMemberChanges(
          'a',
          [add('user:5', { type: 'email', hash: x }, { type: 'email', hash: y }), add('user:6', { type: 'email', hash: f })],
          now,
        );
        const { erasure } = await store.erase(
          { requestKey: 'k', source: 'api', memberKeys: [], identities: [{ type: 'email', hash: f }] },
          now + 1,
          'admin_token',
        );
        expect(erasure.membersErased).toBe(1);
        expect(await store.countMembers('a')).toBe(1);
        expect((await store.lookup([{ type: 'email', hash: x }])).map((r) => r.holders)).toEqual([1]);
      } finally {
        await cleanup();
      }
    });
  });
}
