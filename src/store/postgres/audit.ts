import type pg from 'pg';
import type { AuditEntry, AuditEntryInput } from '../port.ts';
import { toAuditEntry, type AuditRow } from '../rows.ts';

interface Sql {
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
}

/*
 * The audit log (port.ts AuditStore): one INSERT per entry, in the transaction of the change it
 * records (index.ts `audited`), no lock but the identity's; reads take none. Ids come from one
 * identity, so newest first is by id. Ids are taken at the insert and two changes may commit in
 * the other order: a reader that paged past an id before its change committed does not see that
 * entry on that pass. The table refuses UPDATE, DELETE and TRUNCATE (migration 0015).
 */

export async function recordAudit(c: Sql, e: AuditEntryInput, now: number): Promise<void> {
  await c.query(
    `INSERT INTO audit_log (at, actor, action, object_type, object_id, audience_id, configuration_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [now, e.actor, e.action, e.objectType, e.objectId, e.audienceId ?? null, e.configurationId ?? null, e.details ? JSON.stringify(e.details) : null],
  );
}

export async function listAudit(c: Sql, opts: { beforeId?: number; limit: number }): Promise<AuditEntry[]> {
  const r = await c.query<AuditRow>('SELECT * FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2', [opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit]);
  return r.rows.map(toAuditEntry);
}
