import type Database from 'better-sqlite3';
import type { AuditEntry, AuditEntryInput } from '../port.ts';
import { toAuditEntry, type AuditRow } from '../rows.ts';

/*
 * The audit log (port.ts AuditStore): one INSERT per entry in its own IMMEDIATE transaction (the
 * caller's); reads need none. The table refuses UPDATE and DELETE (migration 0015).
 */

export function recordAudit(db: Database.Database, e: AuditEntryInput, now: number): void {
  db.prepare(
    `INSERT INTO audit_log (at, actor, action, object_type, object_id, audience_id, configuration_id, details)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(now, e.actor, e.action, e.objectType, e.objectId, e.audienceId ?? null, e.configurationId ?? null, e.details ? JSON.stringify(e.details) : null);
}

export function listAudit(db: Database.Database, opts: { beforeId?: number; limit: number }): AuditEntry[] {
  const rows = db
    .prepare('SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?')
    .all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit) as AuditRow[];
  return rows.map(toAuditEntry);
}
