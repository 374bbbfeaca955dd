/**
 * The store port's web UI sessions and single-use keys, on every store: a session is found until
 * it expires or is deleted, expired rows are pruned on the next write, and a single-use key is
 * granted exactly once, also to concurrent callers (on PostgreSQL, separate pool connections).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/port.ts';
import { STORES } from './helpers.ts';

/** Rows in a table, read behind the port (pruning is not visible through it by design). */
async function rows(store: Store, table: 'ui_sessions' | 'single_use'): Promise<number> {
  const inner = (store as unknown as { db: unknown }).db;
  if (store.dialect === 'sqlite')
    return (inner as { prepare(sql: string): { pluck(): { get(): number } } }).prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get();
  const r = await (inner as { query(sql: string): Promise<{ rows: { n: number }[] }> }).query(`SELECT count(*)::int AS n FROM ${table}`);
  return r.rows[0]!.n;
}

for (const factory of STORES) {
  describe(`store contract: UI sessions and single-use keys (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const now = 1_700_000_000_000;

    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
    });
    afterEach(async () => cleanup());

    it('finds a session until it expires or is deleted', async () => {
      await store.putSession('h1', now + 1000, now);
      await store.putSession('h2', now + 5000, now);
      expect(await store.getSession('h1', now)).toBe(now + 1000);
      expect(await store.getSession('h1', now + 999)).toBe(now + 1000);
      expect(await store.getSession('h1', now + 1000)).toBeNull();
      expect(await store.getSession('unknown', now)).toBeNull();

      expect(await store.deleteSession('h2')).toBe(true);
      expect(await store.getSession('h2', now)).toBeNull();
      expect(await store.deleteSession('h2')).toBe(false);
    });

    it('prunes expired sessions when a new one is recorded', async () => {
      await store.putSession('old', now + 1000, now);
      await store.putSession('live', now + 9000, now);
      expect(await rows(store, 'ui_sessions')).toBe(2);
      await store.putSession('new', now + 10_000, now + 1000);
      expect(await rows(store, 'ui_sessions')).toBe(2);
      expect(await store.getSession('live', now + 1000)).toBe(now + 9000);
      expect(await store.getSession('new', now + 1000)).toBe(now + 10_000);
    });

    it('grants a single-use key once until it expires, then forgets it', async () => {
      expect(await store.useOnce('k1', now + 1000, now)).toBe(true);
      expect(await store.useOnce('k1', now + 1000, now + 1)).toBe(false);
      expect(await store.useOnce('k1', now + 5000, now + 999)).toBe(false);
      expect(await store.useOnce('k2', now + 1000, now)).toBe(true);
      // Past its expiry the key is pruned by the next use of any key.
      expect(await store.useOnce('k3', now + 9000, now + 1000)).toBe(true);
      expect(await rows(store, 'single_use')).toBe(1);
      expect(await store.useOnce('k1', now + 9000, now + 1000)).toBe(true);
    });

    it('grants a single-use key to exactly one of many concurrent callers', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => store.useOnce('race', now + 1000, now)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
