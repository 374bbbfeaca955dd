import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

export interface StoreFactory {
  name: string;
  open(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

/** Every store implementation the contract tests run against. PostgreSQL joins with its implementation. */
export const STORES: StoreFactory[] = [
  {
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
  },
];

export const h = (n: number): string => n.toString(16).padStart(64, '0');
