/**
 * The audit log as the API and the UI page show it: newest first, a page at a time, with an
 * opaque cursor (the last id shown, base64url) for the next, older page.
 */
import { Refusal } from '../core/errors.ts';
import type { AuditEntry } from '../store/port.ts';
import type { Services } from './deps.ts';
import type { AuditEntryView, AuditPage } from './views.ts';

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;

export function auditEntryView(e: AuditEntry): AuditEntryView {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    actor: e.actor,
    action: e.action,
    object_type: e.objectType,
    object_id: e.objectId,
    audience_id: e.audienceId,
    configuration_id: e.configurationId,
    details: e.details,
  };
}

const encodeCursor = (id: number): string => Buffer.from(`a${id}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = /^a([1-9]\d{0,15})$/.exec(text)?.[1];
  if (id === undefined || Buffer.from(text).toString('base64url') !== cursor) throw new Refusal('invalid', 'cursor: not a cursor this API gave out');
  return Number(id);
}

/** One page, `limit` entries at most, from the newest or after `cursor`. */
export async function auditPage(s: Pick<Services, 'store'>, opts: { cursor?: string; limit?: number }): Promise<AuditPage> {
  const limit = opts.limit ?? AUDIT_PAGE_DEFAULT;
  const beforeId = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor);
  // One more than asked tells whether an older page exists.
  const rows = await s.store.listAudit({ beforeId, limit: limit + 1 });
  const page = rows.slice(0, limit);
  return { data: page.map(auditEntryView), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null };
}
