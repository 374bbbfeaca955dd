import type { Audience, CatalogStore, Configuration, DeletionStatus, DownstreamStatus, StatusStore, TargetingCampaign } from '../store/port.ts';
import type { AudienceView, DeletionView, DownstreamView, HistoryView } from './views.ts';

function iso(t: number): string;
function iso(t: number | null): string | null;
function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

/** A downstream audience's state as the user sees it: a paused configuration pauses its audiences. */
function shownState(d: DownstreamStatus, config: Configuration | undefined): DownstreamView['state'] {
  if (config?.state === 'needs_reauth' && d.state !== 'detached') return 'paused';
  return d.state;
}

export function downstreamView(d: DownstreamStatus, config: Configuration | undefined, errors: { at: number; message: string }[] = []): DownstreamView {
  return {
    identity_type: d.identityType,
    x_audience_id: d.xAudienceId,
    name: d.xName,
    state: shownState(d, config),
    members: d.members,
    pending: d.pending,
    sent_adds: d.sentAdds,
    sent_removes: d.sentRemoves,
    // Hashes sent again before X's 13-month expiry dropped them (TAILOR_RENEW_AFTER_DAYS).
    renewed: d.renewed,
    rejected: d.rejected,
    audience_size: d.audienceSize,
    targetable: d.targetable,
    reasons_not_targetable: d.reasonsNotTargetable,
    // X's matched size over the members Tailor has put there; null until X has sized it.
    match_rate: d.audienceSize !== null && d.members > 0 ? Math.round((d.audienceSize / d.members) * 1000) / 1000 : null,
    name_suffix: d.nameSuffix,
    last_synced_at: iso(d.lastSyncedAt),
    last_refreshed_at: iso(d.refreshedAt),
    last_error: d.lastError,
    last_error_at: iso(d.lastErrorAt),
    recent_errors: errors.map((e) => ({ at: iso(e.at), message: e.message })),
    next_attempt_at: d.nextAttemptAt > 0 ? iso(d.nextAttemptAt) : null,
    next_send_at: d.sendIntervalMs === null || d.state === 'deleting' || d.nextSendAt === 0 ? null : iso(d.nextSendAt),
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
): Promise<AudienceView> {
  const [connections, downstreams, configurations, members, rejections, errors] = await Promise.all([
    store.listConnections(audience.id),
    store.listDownstreams(audience.id),
    store.listConfigurations(),
    store.countMembers(audience.id),
    store.listRejections(audience.id),
    store.listErrors(audience.id, 100),
  ]);
  const errorsOf = (id: number) => errors.filter((e) => e.downstreamId === id).slice(0, 5);
  const configById = new Map(configurations.map((c) => [c.id, c]));
  const connected = new Set(connections.map((c) => c.configurationId));
  return {
    id: audience.id,
    name: audience.name,
    // api: PUT /api/v1/audiences (and imports into it); firehose: created by a Firehose message,
    // the only kind a Firehose message may change (docs/firehose.md).
    origin: audience.origin,
    members,
    created_at: iso(audience.createdAt),
    updated_at: iso(audience.updatedAt),
    rejected_identities: rejections.map((r) => ({ reason: r.reason, count: r.count, last_at: iso(r.lastAt) })),
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
        downstream_audiences: downstreams.filter((d) => d.configurationId === c.configurationId).map((d) => downstreamView(d, config, errorsOf(d.id))),
      };
    }),
    // Downstream audiences whose connection was removed (kept on X) or that are being deleted.
    other_downstream_audiences: downstreams
      .filter((d) => !connected.has(d.configurationId))
      .map((d) => ({ configuration_id: d.configurationId, ...downstreamView(d, configById.get(d.configurationId), errorsOf(d.id)) })),
  };
}

/** GET /api/v1/audiences/:id/history: members sent and X's size over time, per downstream audience. */
export async function historyView(store: Pick<StatusStore, 'listDownstreams' | 'listSamples'>, audience: Audience): Promise<HistoryView> {
  const [downstreams, samples] = await Promise.all([store.listDownstreams(audience.id), store.listSamples(audience.id)]);
  return {
    id: audience.id,
    downstream_audiences: downstreams.map((d) => ({
      identity_type: d.identityType,
      configuration_id: d.configurationId,
      x_audience_id: d.xAudienceId,
      samples: samples.filter((s) => s.downstreamId === d.id).map((s) => ({ at: iso(s.at), members: s.members, audience_size: s.audienceSize })),
    })),
  };
}
