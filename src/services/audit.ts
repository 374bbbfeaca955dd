/**
 * The audit log's one writer for services, routes and the Firehose: each change of a
 * configuration, audience, connection, suppression or erasure is recorded right after it
 * commits, with its actor and object ids, never a raw identity (store: AuditStore, append-only).
 * The suppression and erasure services call this too.
 */
import type { AuditEntryInput } from '../store/port.ts';
import type { Services } from './deps.ts';

export type { AuditEntryInput } from '../store/port.ts';

export async function recordAudit(s: Pick<Services, 'store' | 'now'>, entry: AuditEntryInput): Promise<void> {
  await s.store.recordAudit(entry, s.now());
}
