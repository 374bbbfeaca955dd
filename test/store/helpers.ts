import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClaimOptions, Store } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { createTestDatabase } from './pg.ts';

export interface StoreFactory {
  name: string;
  open(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

const sqlite: StoreFactory = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'tailor-store-'));
    const store = SqliteStore.open(join(dir, 'tailor.db'));
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** A fresh database per open(), migrated by the store itself, dropped by cleanup. */
const postgres: StoreFactory = {
  name: 'postgres',
  async open() {
    const db = await createTestDatabase();
    try {
      const store = await openPostgresStore(db.url);
      return {
        store,
        cleanup: async () => {
          await store.close();
          await db.drop();
        },
      };
    } catch (err) {
      await db.drop();
      throw err;
    }
  },
};

/**
 * Every store implementation the contract tests run against. PostgreSQL is never left out: the
 * test run always has a server (test/support/postgres.ts).
 */
export const STORES: StoreFactory[] = [sqlite, postgres];

export const h = (n: number): string => n.toString(16).padStart(64, '0');

/**
 * A claim by one worker as the contract tests make it: a 30 s lease, batches of 1,000, X's sizes
 * never due for a refresh; `now` and anything else from the test.
 */
export const claimOptions = (over: Partial<ClaimOptions> & { now: number }): ClaimOptions => ({
  owner: 'host:1:w',
  leaseMs: 30_000,
  flushIntervalMs: 10_000,
  fullBatch: 1000,
  maxChanges: 1000,
  refreshIntervalMs: 1e12,
  ...over,
});

/** Forward E-mails only: one downstream audience per connection. */
export const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };

/** Member `m<n>` added with the e-mail hash h(n), and removed. */
export const addEmail = (n: number) => ({ memberKey: `m${n}`, action: 'add' as const, identities: [{ type: 'email' as const, hash: h(n) }] });
export const removeMember = (n: number) => ({ memberKey: `m${n}`, action: 'remove' as const, identities: [] });
