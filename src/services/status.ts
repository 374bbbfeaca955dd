import type {
  Audience,
  AudiencesStatus,
  CatalogStore,
  Configuration,
  Connection,
  DeletionStatus,
  DeliveryRow,
  DownstreamStatus,
  StatusStore,
  TargetingCampaign,
} from '../store/port.ts';
import { waitingForMember } from '../store/creation.ts';
import type { AudienceView, DeletionView, DeliveryView, DownstreamView, HistoryView } from './views.ts';

/** The flush interval the views assume when the caller gives none (TAILOR_FLUSH_INTERVAL_MS's default). */
export const DEFAULT_FLUSH_INTERVAL_MS = 10_000;

/** How the views compute what depends on configuration: when waiting changes are due. */
export interface ViewOptions {
  flushIntervalMs?: number;
}

function iso(t: number): string;
function iso(t: number | null): string | null;
function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

/**
 * A downstream audience's state as the user sees it: a paused configuration pauses its audiences,
 * and one with no X audience and no member to send waits for its first (../store/creation.ts).
 */
function shownState(d: DownstreamStatus, config: Configuration | undefined): DownstreamView['state'] {
  if (config?.state === 'needs_reauth' && d.state !== 'detached') return 'paused';
  if (waitingForMember(d)) return 'waiting_for_member';
  return d.state;
}

/** The last time a call to X for this downstream audience succeeded (a send settled, or a size read). */
function lastSuccessAt(d: DownstreamStatus): number | null {
  const times = [d.lastSyncedAt, d.refreshedAt].filter((t): t is number => t !== null);
  return times.length ? Math.max(...times) : null;
}

/** The rule of ../store/audience-page.ts rowAttentionSql and attentionIdsSql's paused half, for one downstream audience already read. */
export function needsAttention(d: DownstreamStatus, config: Configuration | undefined): boolean {
  if (d.state === 'deleting') return false;
  if (config?.state === 'needs_reauth' && d.state !== 'detached') return true;
  // Term for term the SQL's (test/store/attention-rule.test.ts): an error newer than both successes.
  if (d.lastErrorAt !== null && d.lastErrorAt > (d.lastSyncedAt ?? 0) && d.lastErrorAt > (d.refreshedAt ?? 0)) return true;
  if (d.state === 'recreating') return true;
  return d.targetable === false && d.sizedAt !== null && d.processingSince === null;
}

/**
 * When the waiting changes go at the latest: the flush interval after the oldest, or after a
 * backoff, and under a cadence not before its next window (with nothing waiting: that window).
 */
function nextSendAt(d: DownstreamStatus, config: Configuration | undefined, flushIntervalMs: number): number | null {
  if (config?.state === 'needs_reauth' || d.state === 'detached' || d.state === 'deleting') return null;
  // Only a remove of a hash X never held may wait here: it is dropped when the audience is created.
  if (waitingForMember(d)) return null;
  const window = d.sendIntervalMs !== null && d.nextSendAt > 0 ? d.nextSendAt : null;
  if (d.oldestPendingAt === null) return window;
  return Math.max(d.oldestPendingAt + flushIntervalMs, d.nextAttemptAt, window ?? 0);
}

export function downstreamView(
  d: DownstreamStatus,
  config: Configuration | undefined,
  errors: { at: number; message: string }[] = [],
  opts: ViewOptions = {},
): DownstreamView {
  const ok = lastSuccessAt(d);
  const sizedMembers = d.sizedMembers ?? (d.sizedAt === null ? null : d.members);
  return {
    identity_type: d.identityType,
    x_audience_id: d.xAudienceId,
    name: d.xName,
    state: shownState(d, config),
    members: d.members,
    target: d.target,
    pending: d.pending,
    pending_adds: d.pendingAdds,
    pending_removes: d.pendingRemoves,
    uncertain: d.uncertain,
    oldest_pending_at: iso(d.oldestPendingAt),
    next_send_at: iso(nextSendAt(d, config, opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS)),
    sent_adds: d.sentAdds,
    sent_removes: d.sentRemoves,
    // Hashes sent again before X's 13-month expiry dropped them (TAILOR_RENEW_AFTER_DAYS).
    renewed: d.renewed,
    rejected: d.rejected,
    audience_size: d.audienceSize,
    targetable: d.targetable,
    reasons_not_targetable: d.reasonsNotTargetable,
    processing_since: iso(d.processingSince),
    sized_at: iso(d.sizedAt),
    sized_members: sizedMembers,
    // X's matched size over the membership X sized (members on X when the size was read), not
    // today's members: a size from before a burst of adds does not make the rate fall.
    match_rate: d.audienceSize !== null && sizedMembers !== null && sizedMembers > 0 ? Math.round((d.audienceSize / sizedMembers) * 1000) / 1000 : null,
    name_suffix: d.nameSuffix,
    last_synced_at: iso(d.lastSyncedAt),
    last_refreshed_at: iso(d.refreshedAt),
    last_error: d.lastError,
    last_error_at: iso(d.lastErrorAt),
    last_error_resolved_at: d.lastErrorAt !== null && ok !== null && ok > d.lastErrorAt ? iso(ok) : null,
    recent_errors: errors.map((e) => ({ at: iso(e.at), message: e.message, resolved: ok !== null && ok > e.at })),
    next_attempt_at: d.nextAttemptAt > 0 ? iso(d.nextAttemptAt) : null,
    previous_x_audience_id: d.previousXAudienceId,
    recreated_at: iso(d.recreatedAt),
    needs_attention: needsAttention(d, config),
    resync:
      d.resyncBefore === null ? null : { requested_at: iso(d.resyncBefore), total: d.resyncTotal, remaining: Math.min(d.resyncRemaining ?? 0, d.resyncTotal) },
    deletion_blocked_by: d.state === 'deleting' && d.deleteBlockedBy ? d.deleteBlockedBy.map(campaignView) : null,
  };
}

function campaignView(c: TargetingCampaign): {
  campaign_id: string;
  campaign_name: string | null;
  line_items: { id: string; name: string | null; servable: boolean | null }[];
} {
  return { campaign_id: c.campaignId, campaign_name: c.campaignName, line_items: c.lineItems };
}

/** GET /api/v1/deletions: X audiences of deleted audiences still to be deleted on X, and what holds them back. */
export function deletionView(d: DeletionStatus): DeletionView {
  return {
    audience_id: d.audienceId,
    configuration_id: d.configurationId,
    identity_type: d.identityType,
    x_audience_id: d.xAudienceId,
    name: d.xName,
    force: d.force,
    blocked_by: d.blockedBy && !d.force ? d.blockedBy.map(campaignView) : null,
    next_attempt_at: d.nextAttemptAt > 0 ? iso(d.nextAttemptAt) : null,
    last_error: d.lastError,
  };
}

/** GET /api/v1/audiences/:id: the audience, its connections and each downstream X audience. */
export async function audienceView(
  store: Pick<CatalogStore, 'listConnections' | 'listConfigurations'> & StatusStore,
  audience: Audience,
  opts: ViewOptions = {},
): Promise<AudienceView> {
  const [connections, downstreams, configurations, members, rejections, errors] = await Promise.all([
    store.listConnections(audience.id),
    store.listDownstreams(audience.id),
    store.listConfigurations(),
    store.countMembers(audience.id),
    store.listRejections(audience.id),
    store.listErrors(audience.id, 100),
  ]);
  return buildAudienceView(
    { ...audience, members },
    { connections, downstreams, errors, rejections: rejections.map((r) => ({ audienceId: audience.id, ...r })) },
    configurations,
    opts,
  );
}

/**
 * A page of audience views (GET /api/v1/audiences) from one read of their status
 * (StatusStore.audiencesStatus) and one of the configurations: a fixed number of queries per page.
 */
export async function audienceViews(
  store: Pick<CatalogStore, 'listConfigurations'> & Pick<StatusStore, 'audiencesStatus'>,
  audiences: (Audience & { members: number })[],
  opts: ViewOptions = {},
): Promise<AudienceView[]> {
  if (audiences.length === 0) return [];
  const [status, configurations] = await Promise.all([
    store.audiencesStatus(
      audiences.map((a) => a.id),
      5,
    ),
    store.listConfigurations(),
  ]);
  const byAudience = <T>(rows: T[], key: (r: T) => string): Map<string, T[]> => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
    return m;
  };
  const connections = byAudience(status.connections, (c) => c.audienceId);
  const downstreams = byAudience(status.downstreams, (d) => d.audienceId);
  const audienceOf = new Map(status.downstreams.map((d) => [d.id, d.audienceId]));
  const errors = byAudience(status.errors, (e) => audienceOf.get(e.downstreamId) ?? '');
  const rejections = byAudience(status.rejections, (r) => r.audienceId);
  return audiences.map((a) =>
    buildAudienceView(
      a,
      {
        connections: connections.get(a.id) ?? [],
        downstreams: downstreams.get(a.id) ?? [],
        errors: errors.get(a.id) ?? [],
        rejections: rejections.get(a.id) ?? [],
      },
      configurations,
      opts,
    ),
  );
}

function buildAudienceView(
  audience: Audience & { members: number },
  status: AudiencesStatus,
  configurations: Configuration[],
  opts: ViewOptions,
): AudienceView {
  const { downstreams, errors } = status;
  const connections: Connection[] = status.connections;
  const errorsOf = (id: number) => errors.filter((e) => e.downstreamId === id).slice(0, 5);
  const configById = new Map(configurations.map((c) => [c.id, c]));
  const connected = new Set(connections.map((c) => c.configurationId));
  return {
    id: audience.id,
    name: audience.name,
    // api: PUT /api/v1/audiences (and imports into it); firehose: created by a Firehose message,
    // the only kind a Firehose message may change (docs/firehose.md).
    origin: audience.origin,
    members: audience.members,
    created_at: iso(audience.createdAt),
    updated_at: iso(audience.updatedAt),
    rejected_identities: status.rejections.map((r) => ({ reason: r.reason, count: r.count, last_at: iso(r.lastAt) })),
    connections: connections.map((c) => {
      const config = configById.get(c.configurationId);
      return {
        configuration_id: c.configurationId,
        configuration_name: config?.name ?? null,
        account_id: config?.accountId ?? null,
        configuration_state: config?.state ?? null,
        configuration_state_reason: config?.stateReason ?? null,
        forward_emails: c.forwardEmails,
        forward_twitter_handles: c.forwardTwitterHandles,
        forward_device_ids: c.forwardDeviceIds,
        forward_phone_numbers: c.forwardPhoneNumbers,
        send_interval_minutes: c.sendIntervalMinutes,
        created_at: iso(c.createdAt),
        downstream_audiences: downstreams.filter((d) => d.configurationId === c.configurationId).map((d) => downstreamView(d, config, errorsOf(d.id), opts)),
      };
    }),
    // Downstream audiences whose connection was removed (kept on X) or that are being deleted.
    other_downstream_audiences: downstreams
      .filter((d) => !connected.has(d.configurationId))
      .map((d) => ({ configuration_id: d.configurationId, ...downstreamView(d, configById.get(d.configurationId), errorsOf(d.id), opts) })),
  };
}

/**
 * GET /api/v1/audiences/:id/history: members sent and X's size over time, and the pauses,
 * re-creations and renames, per downstream audience; only what came after `since` when given.
 */
export async function historyView(
  store: Pick<StatusStore, 'listDownstreams' | 'listSamples' | 'listEvents'>,
  audience: Audience,
  since?: number,
): Promise<HistoryView> {
  const [downstreams, samples, events] = await Promise.all([
    store.listDownstreams(audience.id),
    store.listSamples(audience.id, since),
    store.listEvents(audience.id, since),
  ]);
  return {
    id: audience.id,
    downstream_audiences: downstreams.map((d) => ({
      identity_type: d.identityType,
      configuration_id: d.configurationId,
      x_audience_id: d.xAudienceId,
      samples: samples
        .filter((s) => s.downstreamId === d.id)
        .map((s) => ({ at: iso(s.at), members: s.members, audience_size: s.audienceSize, sized_members: s.sizedMembers })),
      events: events.filter((e) => e.downstreamId === d.id).map((e) => ({ at: iso(e.at), kind: e.kind, detail: e.detail })),
    })),
  };
}

/**
 * GET /api/v1/audiences/:id/deliveries: the delivery log, newest first. A failed call is resolved
 * once a later call to the same X audience succeeded (its last settled send is newer).
 */
export function deliveryViews(rows: DeliveryRow[], downstreams: DownstreamStatus[]): DeliveryView[] {
  const byId = new Map(downstreams.map((d) => [d.id, d]));
  return rows.map((r) => {
    const d = byId.get(r.downstreamId);
    const failed = r.error !== null;
    return {
      id: r.id,
      configuration_id: d?.configurationId ?? '',
      identity_type: d?.identityType ?? 'email',
      x_audience_id: d?.xAudienceId ?? null,
      at: iso(r.at),
      adds: r.adds,
      removes: r.removes,
      bytes: r.bytes,
      status: r.status,
      success_count: r.successCount,
      total_count: r.totalCount,
      duration_ms: r.durationMs,
      error: r.error,
      resolved: failed && d !== undefined && d.lastSyncedAt !== null && d.lastSyncedAt > r.at,
    };
  });
}
