import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/port.ts';
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
