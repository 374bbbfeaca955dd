/**
 * "Needs attention" is one rule read two ways: as SQL by the audience list's filter and count
 * (../../src/store/audience-page.ts, through the partial index of migration 0022) and in TypeScript
 * for a downstream audience already read (../../src/services/status.ts needsAttention, the
 * status's `needs_attention`). Over random downstream rows and configuration states the two must
 * agree, or the list's "needs attention" filter and the status page would disagree about an audience.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsAttention } from '../../src/services/status.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { Store } from '../../src/store/port.ts';
import { EMAIL_ONLY } from './helpers.ts';

const time = fc.option(fc.constantFrom(0, 1_000_000, 1_001_000, 1_002_000), { nil: null });
const row = fc.record({
  state: fc.constantFrom('active', 'pending', 'recreating', 'detached', 'deleting'),
  configState: fc.constantFrom('active', 'needs_reauth'),
  lastErrorAt: time,
  lastSyncedAt: time,
  refreshedAt: time,
  targetable: fc.constantFrom(null, 0, 1),
  sizedAt: time,
  processingSince: time,
});

describe('needs attention: the list’s SQL and the status’s rule agree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-attention-'));
  const file = join(dir, 'tailor.db');
  let store: Store;
  let raw: Database.Database;
  let configId: string;

  beforeAll(async () => {
    store = SqliteStore.open(file);
    configId = (await store.putConfiguration({ name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, 1, 'cli'))
      .configuration.id;
    await store.putAudience('a1', 'Buyers', 1, 'admin_token');
    await store.putConnection('a1', configId, EMAIL_ONLY, 1, 'admin_token');
    raw = new Database(file);
  });
  afterAll(async () => {
    raw?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('for every combination of state, times, size and paused configuration', async () => {
    await fc.assert(
      fc.asyncProperty(row, async (r) => {
        raw
          .prepare(
            `UPDATE downstreams SET state = ?, last_error = ?, last_error_at = ?, last_synced_at = ?, refreshed_at = ?,
               targetable = ?, sized_at = ?, processing_since = ? WHERE audience_id = 'a1'`,
          )
          .run(r.state, r.lastErrorAt === null ? null : 'X said no', r.lastErrorAt, r.lastSyncedAt, r.refreshedAt, r.targetable, r.sizedAt, r.processingSince);
        raw.prepare('UPDATE configurations SET state = ? WHERE id = ?').run(r.configState, configId);
        const [downstream] = await store.listDownstreams('a1');
        const config = await store.getConfiguration(configId);
        const page = await store.listAudiencePage({ sort: 'name', limit: 10, state: 'attention' });
        const attention = needsAttention(downstream!, config ?? undefined);
        expect(page.audiences.map((a) => a.id)).toEqual(attention ? ['a1'] : []);
        expect(page.attention).toBe(attention ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });
});
