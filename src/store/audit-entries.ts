/**
 * What the audit log records of each change (docs/privacy.md, "Audit log"): one pure function per
 * audited store operation, shared by both adapters. Each adapter's `audited` (its index.ts) runs
 * the operation, asks the function here what to record of its result, and writes that entry in
 * the same transaction: the change and its entry commit together or not at all. Null means the
 * operation changed nothing (an unchanged name, a suppression already listed): no entry.
 *
 * Object ids, counts and settings only, never an identity (not even hashed) nor a token.
 */
import type { ConfigurationState } from '../core/terms.ts';
import type { AuditActor, AuditBy, AuditDetails, AuditEntryInput, Configuration, Connection, Erasure, SuppressionResult } from './port.ts';

/** An entry but its actor: what the operation tells about itself. */
export type AuditChange = Omit<AuditEntryInput, 'actor'>;

export const auditActor = (by: AuditBy): AuditActor => (typeof by === 'string' ? by : by.actor);

/** The entry to write: the change with the caller's actor, and the caller's details after the change's own. */
export function auditEntry(by: AuditBy, change: AuditChange): AuditEntryInput {
  if (typeof by === 'string') return { actor: by, ...change };
  return { actor: by.actor, ...change, details: { ...change.details, ...by.details } };
}

export function configurationPut(r: { configuration: Configuration; created: boolean; resumed: boolean }): AuditChange {
  return {
    // A re-authorization of a paused configuration is what resumes it: recorded as the resumption.
    action: r.created ? 'configuration.created' : r.resumed ? 'configuration.resumed' : 'configuration.reauthorized',
    objectType: 'configuration',
    objectId: r.configuration.id,
    configurationId: r.configuration.id,
    details: { account_id: r.configuration.accountId },
  };
}

export function configurationDeleted(id: string, result: 'deleted' | 'not_found' | 'in_use'): AuditChange | null {
  if (result !== 'deleted') return null;
  return { action: 'configuration.deleted', objectType: 'configuration', objectId: id, configurationId: id };
}

/** Only a change of state is recorded: every worker that meets X's refusal asks to pause, once is the change. */
export function configurationState(id: string, state: ConfigurationState, reason: string | null, changed: boolean): AuditChange | null {
  if (!changed) return null;
  return {
    action: state === 'active' ? 'configuration.resumed' : 'configuration.paused',
    objectType: 'configuration',
    objectId: id,
    configurationId: id,
    details: state === 'active' ? { state } : { state, reason },
  };
}

export function audiencePut(id: string, r: { created: boolean; renamed: boolean; foreign?: boolean }): AuditChange | null {
  if (r.foreign || !(r.created || r.renamed)) return null;
  return { action: r.created ? 'audience.created' : 'audience.renamed', objectType: 'audience', objectId: id, audienceId: id };
}

export function audienceDeleted(id: string, r: { deleted: boolean; xAudiences: number }, force: boolean): AuditChange | null {
  if (!r.deleted) return null;
  return { action: 'audience.deleted', objectType: 'audience', objectId: id, audienceId: id, details: { x_audiences: r.xAudiences, force } };
}

/** `DELETE …?force=true` of an audience already deleted: its waiting X audiences are deleted despite their campaigns. */
export function deletionsForced(audienceId: string, n: number): AuditChange | null {
  if (n === 0) return null;
  return { action: 'audience.deletion_forced', objectType: 'audience', objectId: audienceId, audienceId, details: { x_audiences: n } };
}

const connectionId = (audienceId: string, configurationId: string): string => `${audienceId}/${configurationId}`;

/** A connection's settings as details: the Forward toggles and the cadence. */
function settingsOf(c: Connection): AuditDetails {
  return {
    forward_emails: c.forwardEmails,
    forward_twitter_handles: c.forwardTwitterHandles,
    forward_device_ids: c.forwardDeviceIds,
    forward_phone_numbers: c.forwardPhoneNumbers,
    send_interval_minutes: c.sendIntervalMinutes,
  };
}

/** Created, or changed in some setting (named in `changed`); the same settings again change nothing. */
export function connectionPut(r: { connection: Connection; previous: Connection | null }): AuditChange | null {
  const now = settingsOf(r.connection);
  const ids = {
    objectType: 'connection' as const,
    objectId: connectionId(r.connection.audienceId, r.connection.configurationId),
    audienceId: r.connection.audienceId,
    configurationId: r.connection.configurationId,
  };
  if (r.previous === null) return { action: 'connection.created', ...ids, details: now };
  const before = settingsOf(r.previous);
  const changed = Object.keys(now).filter((k) => now[k] !== before[k]);
  if (changed.length === 0) return null;
  return { action: 'connection.updated', ...ids, details: { ...now, changed: changed.join(',') } };
}

export function resyncRequested(audienceId: string, configurationId: string, xAudiences: number | null): AuditChange | null {
  if (xAudiences === null) return null;
  return {
    action: 'connection.resync_requested',
    objectType: 'connection',
    objectId: connectionId(audienceId, configurationId),
    audienceId,
    configurationId,
    details: { x_audiences: xAudiences },
  };
}

export function connectionDeleted(audienceId: string, configurationId: string, deleted: boolean): AuditChange | null {
  if (!deleted) return null;
  return { action: 'connection.deleted', objectType: 'connection', objectId: connectionId(audienceId, configurationId), audienceId, configurationId };
}

/** Counts only: the list holds hashes, and the audit log names no identity, not even hashed. */
export function suppressionChanged(r: SuppressionResult): AuditChange | null {
  if (r.added === 0 && r.lifted === 0) return null;
  return { action: 'suppression.changed', objectType: 'suppression', objectId: null, details: { added: r.added, lifted: r.lifted, queued: r.queued } };
}

/** Once per erasure (the same request again answers the first one): its id and counts, never whom. */
export function erasureRequested(r: { erasure: Erasure; created: boolean }): AuditChange | null {
  if (!r.created) return null;
  const e = r.erasure;
  return {
    action: 'erasure.requested',
    objectType: 'erasure',
    objectId: e.id,
    details: { source: e.source, members_erased: e.membersErased, x_audiences: e.xAudiences },
  };
}

/** X acknowledged the last removal an erasure waited for (written by settlePrivacy, in the settle that saw it). */
export function erasureCompleted(id: string): AuditChange {
  return { action: 'erasure.completed', objectType: 'erasure', objectId: id };
}
