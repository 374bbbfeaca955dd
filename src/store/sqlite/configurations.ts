import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { ConfigurationState } from '../../core/terms.ts';
import type { Configuration, ConfigurationInput } from '../port.ts';
import { toConfiguration, type ConfigurationRow } from '../rows.ts';
import { recordConfigurationEvent } from './history.ts';
import { forgetDownstream } from './lease.ts';
import { prepared } from './statements.ts';

/*
 * Configurations (X accounts). The writes run inside the caller's IMMEDIATE transaction: the
 * read-then-write of putConfiguration and deleteConfiguration sees no other writer in between.
 */

export function putConfiguration(
  db: Database.Database,
  input: ConfigurationInput,
  now: number,
): { configuration: Configuration; created: boolean; resumed: boolean } {
  const row = db.prepare('SELECT id, state FROM configurations WHERE account_id = ?').get(input.accountId) as
    { id: string; state: ConfigurationState } | undefined;
  if (row) {
    const existing = row.id;
    // New tokens for a known account: this is a re-authorization, and it resumes the account.
    db.prepare(
      `UPDATE configurations SET name = ?, account_name = ?, x_user_id = ?, screen_name = ?, tokens = ?,
         state = 'active', state_reason = NULL, updated_at = ? WHERE id = ?`,
    ).run(input.name, input.accountName, input.xUserId, input.screenName, input.tokens, now, existing);
    if (row.state === 'needs_reauth') recordConfigurationEvent(db, existing, 'resumed', now);
    return { configuration: getConfiguration(db, existing)!, created: false, resumed: row.state !== 'active' };
  }
  const id = randomUUID();
  db.prepare(
    `INSERT INTO configurations (id, name, account_id, account_name, x_user_id, screen_name, tokens, state, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
  ).run(id, input.name, input.accountId, input.accountName, input.xUserId, input.screenName, input.tokens, now, now);
  return { configuration: getConfiguration(db, id)!, created: true, resumed: false };
}

export function listConfigurations(db: Database.Database): Configuration[] {
  return (db.prepare('SELECT * FROM configurations ORDER BY created_at, id').all() as ConfigurationRow[]).map(toConfiguration);
}

export function getConfiguration(db: Database.Database, id: string): Configuration | null {
  const row = db.prepare('SELECT * FROM configurations WHERE id = ?').get(id) as ConfigurationRow | undefined;
  return row ? toConfiguration(row) : null;
}

export function getConfigurationByAccount(db: Database.Database, accountId: string): Configuration | null {
  const row = prepared(db, 'SELECT * FROM configurations WHERE account_id = ?').get(accountId) as ConfigurationRow | undefined;
  return row ? toConfiguration(row) : null;
}

export function deleteConfiguration(db: Database.Database, id: string): 'deleted' | 'not_found' | 'in_use' {
  if (!db.prepare('SELECT 1 FROM configurations WHERE id = ?').get(id)) return 'not_found';
  // Without connections, its X audiences are detached or being deleted; a detached one's only
  // pending changes are removes of suppressed hashes (docs/privacy.md), which must reach X first.
  const inUse = db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM connections WHERE configuration_id = @id)
         OR EXISTS (SELECT 1 FROM downstreams WHERE configuration_id = @id AND state = 'deleting')
         OR EXISTS (SELECT 1 FROM downstreams d JOIN outbox o ON o.downstream_id = d.id WHERE d.configuration_id = @id)`,
    )
    .pluck()
    .get({ id }) as number;
  if (inUse) return 'in_use';
  // Detached downstream audiences stay on X; Tailor only forgets them.
  const ids = db.prepare('SELECT id FROM downstreams WHERE configuration_id = ?').pluck().all(id) as number[];
  for (const d of ids) forgetDownstream(db, d);
  db.prepare('DELETE FROM configurations WHERE id = ?').run(id);
  return 'deleted';
}

/** Returns whether the state changed (every worker X refuses asks to pause; the first one does). */
export function setConfigurationState(db: Database.Database, id: string, state: ConfigurationState, reason: string | null, now: number): boolean {
  const before = db.prepare('SELECT state FROM configurations WHERE id = ?').pluck().get(id) as ConfigurationState | undefined;
  db.prepare('UPDATE configurations SET state = ?, state_reason = ?, updated_at = ? WHERE id = ?').run(state, reason, now, id);
  if (before !== undefined && before !== state) recordConfigurationEvent(db, id, state === 'needs_reauth' ? 'paused' : 'resumed', now);
  return before !== undefined && before !== state;
}
