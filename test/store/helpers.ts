import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { POSTGRES_REQUIRED, createTestDatabase, postgresAvailable } from './pg.ts';

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
 * Whether the PostgreSQL contract tests run. In CI (CI=true) or with TAILOR_TEST_POSTGRES_URL set
 * they always do, so an unreachable server fails them loudly; on a laptop without PostgreSQL they
 * are left out with a warning.
 */
export const WITH_POSTGRES = POSTGRES_REQUIRED || (await postgresAvailable());
if (!WITH_POSTGRES) console.warn('PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL store tests are skipped (they are required in CI).');

/** Every store implementation the contract tests run against. */
export const STORES: StoreFactory[] = WITH_POSTGRES ? [sqlite, postgres] : [sqlite];

export const h = (n: number): string => n.toString(16).padStart(64, '0');
