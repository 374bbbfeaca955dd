import type {
  Audience,
  AuditActor,
  AuditEntry,
  AuditObjectType,
  Configuration,
  Connection,
  DeletionStatus,
  Downstream,
  DownstreamStatus,
  TargetingCampaign,
} from './port.ts';
import type { ConfigurationState, DownstreamState, IdentityType } from '../core/terms.ts';

/*
 * Row shapes as the drivers return them, and their mapping to the port's types. SQLite gives
 * booleans as 0/1 and JSON as text; pg gives booleans and arrays; both read here the same way.
 */

type Flag = number | boolean;
const flag = (v: Flag): boolean => v === true || v === 1;

export interface ConfigurationRow {
  id: string;
  name: string;
  account_id: string;
  account_name: string | null;
  x_user_id: string | null;
  screen_name: string | null;
  tokens: string;
  state: string;
  state_reason: string | null;
  created_at: number;
  updated_at: number;
}

export function toConfiguration(r: ConfigurationRow): Configuration {
  return {
    id: r.id,
    name: r.name,
    accountId: r.account_id,
    accountName: r.account_name,
    xUserId: r.x_user_id,
    screenName: r.screen_name,
    tokens: r.tokens,
    state: r.state as ConfigurationState,
    stateReason: r.state_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface AudienceRow {
  id: string;
  name: string;
  origin: string;
  origin_account: string | null;
  created_at: number;
  updated_at: number;
}

export function toAudience(r: AudienceRow): Audience {
  return {
    id: r.id,
    name: r.name,
    origin: r.origin === 'firehose' ? 'firehose' : 'api',
    originAccount: r.origin_account,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface ConnectionRow {
  audience_id: string;
  configuration_id: string;
  forward_emails: Flag;
  forward_handles: Flag;
  forward_device_ids: Flag;
  forward_phone_numbers: Flag;
  send_interval_minutes: number | null;
  created_at: number;
  updated_at: number;
}

export function toConnection(r: ConnectionRow): Connection {
  return {
    audienceId: r.audience_id,
    configurationId: r.configuration_id,
    forwardEmails: flag(r.forward_emails),
    forwardTwitterHandles: flag(r.forward_handles),
    forwardDeviceIds: flag(r.forward_device_ids),
    forwardPhoneNumbers: flag(r.forward_phone_numbers),
    sendIntervalMinutes: r.send_interval_minutes === null || r.send_interval_minutes === undefined ? null : Number(r.send_interval_minutes),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface DownstreamRow {
  id: number;
  audience_id: string;
  configuration_id: string;
  identity_type: string;
  state: string;
  x_audience_id: string | null;
  x_name: string | null;
  name_suffix: number;
  create_attempt_name: string | null;
  sent_adds: number;
  sent_removes: number;
  rejected: number;
  renewed: number;
  members: number;
  audience_size: number | null;
  targetable: Flag | null;
  reasons_not_targetable: string | string[] | null;
  last_synced_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  attempts: number;
  next_attempt_at: number;
  refreshed_at: number | null;
  refresh_after: number;
  processing_since: number | null;
  sized_at: number | null;
  sized_members: number | null;
  previous_x_audience_id: string | null;
  recreated_at: number | null;
  lease_token: string | null;
  lease_expires_at: number | null;
  send_interval_ms: number | null;
  next_send_at: number;
  resync_before: number | null;
  resync_total: number;
  delete_force: Flag;
  /** JSON text on SQLite, parsed jsonb on PostgreSQL. */
  delete_blocked_by: string | TargetingCampaign[] | null;
}

export function toDownstream(r: DownstreamRow): Downstream {
  return {
    id: r.id,
    audienceId: r.audience_id,
    configurationId: r.configuration_id,
    identityType: r.identity_type as IdentityType,
    state: r.state as DownstreamState,
    xAudienceId: r.x_audience_id,
    xName: r.x_name,
    nameSuffix: r.name_suffix,
    sentAdds: r.sent_adds,
    sentRemoves: r.sent_removes,
    rejected: r.rejected,
    renewed: r.renewed,
    members: r.members,
    audienceSize: r.audience_size,
    targetable: r.targetable === null ? null : flag(r.targetable),
    reasonsNotTargetable: Array.isArray(r.reasons_not_targetable)
      ? r.reasons_not_targetable
      : r.reasons_not_targetable
        ? (JSON.parse(r.reasons_not_targetable) as string[])
        : [],
    lastSyncedAt: r.last_synced_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    refreshedAt: r.refreshed_at,
    processingSince: r.processing_since ?? null,
    sizedAt: r.sized_at ?? null,
    sizedMembers: r.sized_members ?? null,
    previousXAudienceId: r.previous_x_audience_id ?? null,
    recreatedAt: r.recreated_at ?? null,
    sendIntervalMs: r.send_interval_ms ?? null,
    nextSendAt: r.next_send_at ?? 0,
    resyncBefore: r.resync_before ?? null,
    resyncTotal: r.resync_total ?? 0,
    deleteForce: flag(r.delete_force ?? 0),
    deleteBlockedBy: typeof r.delete_blocked_by === 'string' ? (JSON.parse(r.delete_blocked_by) as TargetingCampaign[]) : (r.delete_blocked_by ?? null),
  };
}

export function toDeletion(r: DownstreamRow): DeletionStatus {
  const d = toDownstream(r);
  return {
    downstreamId: d.id,
    audienceId: d.audienceId,
    configurationId: d.configurationId,
    identityType: d.identityType,
    xAudienceId: d.xAudienceId,
    xName: d.xName,
    force: d.deleteForce,
    blockedBy: d.deleteBlockedBy,
    nextAttemptAt: d.nextAttemptAt,
    lastError: d.lastError,
  };
}

/** The figures listDownstreams and audiencesStatus add to each downstream row. */
export interface DownstreamFiguresRow {
  pending: number;
  pending_adds: number;
  oldest_pending_at: number | null;
  uncertain: number;
  target_delta: number;
  /** A running resync's hashes still to send (from its counters), null when none runs. */
  resync_remaining: number | null;
}

export function toDownstreamStatus(r: DownstreamRow & DownstreamFiguresRow): DownstreamStatus {
  const d = toDownstream(r);
  const pending = Number(r.pending);
  const pendingAdds = Number(r.pending_adds);
  return {
    ...d,
    pending,
    pendingAdds,
    pendingRemoves: pending - pendingAdds,
    oldestPendingAt: r.oldest_pending_at === null ? null : Number(r.oldest_pending_at),
    uncertain: Number(r.uncertain),
    target: Math.max(0, d.members + Number(r.target_delta)),
    resyncRemaining: r.resync_remaining === null || r.resync_remaining === undefined ? null : Number(r.resync_remaining),
  };
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  object_type: string;
  object_id: string | null;
  audience_id: string | null;
  configuration_id: string | null;
  /** JSON text (SQLite) or parsed jsonb (pg). */
  details: string | Record<string, string | number | boolean | null> | null;
}

export function toAuditEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor as AuditActor,
    action: r.action,
    objectType: r.object_type as AuditObjectType,
    objectId: r.object_id,
    audienceId: r.audience_id,
    configurationId: r.configuration_id,
    details: typeof r.details === 'string' ? (JSON.parse(r.details) as AuditEntry['details']) : r.details,
  };
}
