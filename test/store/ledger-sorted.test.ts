import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MemberChange } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { importMembers } from '../../src/sources/import/run.ts';
import { MemberKeys } from '../../src/membership/member-key.ts';

/**
 * A bulk store (`tailor import`, OpenOptions.bulk) applies each part table by table in key order
 * (SqliteLedger.applySorted). It must leave exactly what change-by-change application leaves: the
 * same member rows, holder counts, outbox rows (op, enqueue time, claim) and member count, and
 * report the same number of changes queued.
 */
const ALL_ON = { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false };
const NOW = 1_000_000;

interface Opened {
  store: SqliteStore;
  path: string;
}

async function open(dir: string, name: string, bulk: boolean): Promise<Opened> {
  const path = join(dir, `${name}.db`);
  const store = SqliteStore.open(path, { writerThread: false, bulk });
  const { configuration } = await store.putConfiguration(
    { name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
    NOW,
    'cli',
  );
  await store.putAudience('a1', 'Buyers', NOW, 'admin_token');
  await store.putConnection('a1', configuration.id, ALL_ON, NOW, 'admin_token');
  return { store, path };
}

/** Every row the ledger writes, read from the closed file. */
function contents(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    const all = (sql: string): unknown[] => db.prepare(sql).raw().all();
    return {
      members: all('SELECT audience_id, hex(member_key), hex(identities) FROM members ORDER BY 1, 2'),
      holders: all('SELECT audience_id, identity_type, hex(hash), holders FROM hash_holders ORDER BY 1, 2, 3'),
      outbox: all('SELECT downstream_id, hex(hash), op, enqueued_at, claim_token FROM outbox ORDER BY 1, 2'),
      audiences: all('SELECT id, member_count FROM audiences ORDER BY id'),
      rejections: all('SELECT audience_id, reason, count, last_at FROM rejections ORDER BY 1, 2'),
    };
  } finally {
    db.close();
  }
}

const hex = (n: number, width = 64): string => n.toString(16).padStart(width, '0');
const TYPES = ['email', 'handle', 'device_id'] as const;

/** Few members and few hashes, so that calls repeat members, share hashes and undo each other. */
const changeArb: fc.Arbitrary<MemberChange> = fc
  .record({
    member: fc.integer({ min: 0, max: 11 }),
    action: fc.constantFrom('add' as const, 'add' as const, 'remove' as const),
    identities: fc.array(fc.record({ type: fc.constantFrom(...TYPES), hash: fc.integer({ min: 0, max: 7 }) }), { maxLength: 3 }),
  })
  .map(({ member, action, identities }) => ({
    memberKey: member < 9 ? `user:${hex(member)}` : `email:${hex(member)}`,
    action,
    identities: action === 'add' ? identities.map((id) => ({ type: id.type, hash: hex(id.hash) })) : [],
  }));

describe('SQLite bulk store: sorted application', () => {
  it('leaves the same ledger, holder counts and outbox as change by change, call after call', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(changeArb, { maxLength: 40 }), { minLength: 1, maxLength: 5 }), async (calls) => {
        const dir = mkdtempSync(join(tmpdir(), 'tailor-sorted-'));
        try {
          const plain = await open(dir, 'plain', false);
          const bulk = await open(dir, 'bulk', true);
          for (const [i, changes] of calls.entries()) {
            const rejections: Record<string, number> = i === 0 ? { invalid_email: 2 } : {};
            const a = await plain.store.applyMemberChanges('a1', changes, NOW + i, rejections);
            const b = await bulk.store.applyMemberChanges('a1', changes, NOW + i, rejections);
            expect(b.queued).toBe(a.queued);
          }
          await plain.store.close();
          await bulk.store.close();
          expect(contents(bulk.path)).toEqual(contents(plain.path));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a shuffled file imported in large sorted chunks leaves what importing it row by row leaves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-sorted-'));
    try {
      const keys = new MemberKeys('test-secret-key-0123456789abcdef0123');
      // Members repeated with other e-mails, e-mails shared between members, removes by user id.
      const rows: string[] = [];
      for (let i = 0; i < 3_000; i += 1) rows.push(`u${i % 1_200},member${(i * 7) % 900}@example.com`);
      let seed = 42;
      const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
      for (let i = rows.length - 1; i > 0; i -= 1) {
        const j = Math.floor(random() * (i + 1));
        [rows[i], rows[j]] = [rows[j]!, rows[i]!];
      }
      const file = `user_id,email\n${rows.join('\n')}\n`;
      const removes = `user_id,email\n${Array.from({ length: 300 }, (_, i) => `u${i * 3},`).join('\n')}\n`;

      const run = async (name: string, bulk: boolean, chunkRows: number) => {
        const { store, path } = await open(dir, name, bulk);
        const common = { store, memberKeys: keys, audienceId: 'a1', format: 'csv' as const, chunkRows, now: () => NOW };
        const added = await importMembers({ ...common, action: 'add', input: Readable.from([file]) });
        const removed = await importMembers({ ...common, action: 'remove', input: Readable.from([removes]) });
        await store.close();
        return { added, removed, contents: contents(path) };
      };
      const rowByRow = await run('rows', false, 1);
      const sorted = await run('sorted', true, 10_000);
      expect(sorted.added.queued).toBe(rowByRow.added.queued);
      expect(sorted.removed.queued).toBe(rowByRow.removed.queued);
      expect(sorted.added.accepted).toBe(3_000);
      expect(sorted.contents).toEqual(rowByRow.contents);
      // The file really exercised the ledger: shared e-mails, members replaced and removed.
      const { holders, outbox } = sorted.contents as { holders: unknown[][]; outbox: unknown[][] };
      expect(holders.some((h) => (h[3] as number) > 1)).toBe(true);
      expect(outbox.some((o) => o[2] === 'remove')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
