import { randomUUID } from 'node:crypto';
import type { ConfigurationState } from '../../core/terms.ts';
import type { Configuration, ConfigurationInput } from '../port.ts';
import { toConfiguration, type ConfigurationRow } from '../rows.ts';
import type { Reader, Sql } from './db.ts';
import { recordConfigurationEvent } from './history.ts';
import { forgetDownstreams } from './lease.ts';
import { NOTIFY_STRUCTURE } from './wake.ts';

/*
 * Configurations (X accounts). Every write runs in the caller's transaction (index.ts), with its
 * audit entry.
 */

export async function putConfiguration(
  c: Sql,
  input: ConfigurationInput,
  now: number,
): Promise<{ configuration: Configuration; created: boolean; resumed: boolean }> {
  // The state before, under the row's lock: a paused account that is re-authorized is resumed
  // (audited, and marked on its charts); no row yet locks nothing, the upsert settles that race.
  const before = (await c.query<{ state: ConfigurationState }>('SELECT state FROM configurations WHERE account_id = $1 FOR UPDATE', [input.accountId])).rows[0]
    ?.state;
  // One upsert: two processes adding the same account at once end with one row. New tokens
  // for a known account are a re-authorization, and resume it.
  const r = await c.query<ConfigurationRow & { inserted: boolean }>(
    `INSERT INTO configurations AS c (id, name, account_id, account_name, x_user_id, screen_name, tokens, state, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8)
     ON CONFLICT (account_id) DO UPDATE SET name = excluded.name, account_name = excluded.account_name, x_user_id = excluded.x_user_id,
       screen_name = excluded.screen_name, tokens = excluded.tokens, state = 'active', state_reason = NULL, updated_at = excluded.updated_at
     RETURNING c.*, (xmax = 0) AS inserted`,
    [randomUUID(), input.name, input.accountId, input.accountName, input.xUserId, input.screenName, input.tokens, now],
  );
  const row = r.rows[0]!;
  if (!row.inserted && before === 'needs_reauth') await recordConfigurationEvent(c, row.id, 'resumed', now);
  if (!row.inserted) await c.query(NOTIFY_STRUCTURE);
  return { configuration: toConfiguration(row), created: row.inserted, resumed: !row.inserted && before !== undefined && before !== 'active' };
}

export async function listConfigurations(c: Reader): Promise<Configuration[]> {
  return (await c.query<ConfigurationRow>('SELECT * FROM configurations ORDER BY created_at, id')).rows.map(toConfiguration);
}

export async function getConfiguration(c: Reader, id: string): Promise<Configuration | null> {
  const row = (await c.query<ConfigurationRow>('SELECT * FROM configurations WHERE id = $1', [id])).rows[0];
  return row ? toConfiguration(row) : null;
}

export async function getConfigurationByAccount(c: Reader, accountId: string): Promise<Configuration | null> {
  const row = (await c.query<ConfigurationRow>('SELECT * FROM configurations WHERE account_id = $1', [accountId])).rows[0];
  return row ? toConfiguration(row) : null;
}

export async function deleteConfiguration(c: Sql, id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
  // The row lock makes a concurrent putConnection's foreign-key check wait for this decision.
  if ((await c.query('SELECT 1 FROM configurations WHERE id = $1 FOR UPDATE', [id])).rowCount === 0) return 'not_found';
  // Without connections, its X audiences are detached or being deleted; a detached one's only
  // pending changes are removes of suppressed hashes (docs/privacy.md), which must reach X first.
  const inUse = await c.query(
    `SELECT 1 WHERE EXISTS (SELECT 1 FROM connections WHERE configuration_id = $1)
       OR EXISTS (SELECT 1 FROM downstreams WHERE configuration_id = $1 AND state = 'deleting')
       OR EXISTS (SELECT 1 FROM downstreams d JOIN outbox o ON o.downstream_id = d.id WHERE d.configuration_id = $1)`,
    [id],
  );
  if ((inUse.rowCount ?? 0) > 0) return 'in_use';
  // Detached downstream audiences stay on X; Tailor only forgets them.
  const ids = await c.query<{ id: number }>('SELECT id FROM downstreams WHERE configuration_id = $1 ORDER BY id FOR UPDATE', [id]);
  await forgetDownstreams(
    c,
    ids.rows.map((r) => r.id),
  );
  await c.query('DELETE FROM configurations WHERE id = $1', [id]);
  return 'deleted';
}

/** Returns whether the state changed (every worker X refuses asks to pause; the first one does). */
export async function setConfigurationState(c: Sql, id: string, state: ConfigurationState, reason: string | null, now: number): Promise<boolean> {
  const before = (await c.query<{ state: ConfigurationState }>('SELECT state FROM configurations WHERE id = $1 FOR UPDATE', [id])).rows[0]?.state;
  await c.query('UPDATE configurations SET state = $2, state_reason = $3, updated_at = $4 WHERE id = $1', [id, state, reason, now]);
  if (before !== undefined && before !== state) await recordConfigurationEvent(c, id, state === 'needs_reauth' ? 'paused' : 'resumed', now);
  if (state === 'active') await c.query(NOTIFY_STRUCTURE);
  return before !== undefined && before !== state;
}
