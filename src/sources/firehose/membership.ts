/**
 * `audience_membership_change_request`: every profile, every audience in it. Changes are grouped
 * per audience and each audience's share goes to the ledger through one `ingest` (one
 * transaction, membership/ingest.ts); the answer goes out only after every call has returned
 * (durable), and a store failure is a 503 so that mParticle retries. Re-applying a request is
 * harmless: the ledger holds sets.
 */
import type { SourceIdentity, SourceMember } from '../../membership/changes.ts';
import { ingest, type IngestPart } from '../../membership/ingest.ts';
import { countIngest } from '../../metrics.ts';
import type { Services } from '../../services/deps.ts';
import type { Configuration, ConnectionToggles } from '../../store/port.ts';
import { foreignAudience } from './foreign.ts';
import { firehoseSender } from './origin.ts';
import { responseEnvelope } from './response.ts';
import { identityKindOf, togglesOf, type FirehoseIdentity, type FirehoseProfile, type IdentityList, type MembershipRequest, type Settings } from './schema.ts';
import type { FirehoseStatus, SuspendReason } from './status.ts';

/** One audience's share of a request. */
export interface AudiencePlan {
  audienceId: string;
  /** From the first entry that names it; used only to create an audience Tailor has not seen. */
  name: string | null;
  toggles: ConnectionToggles;
  /** Whether any profile joins it (only then is a missing audience or connection created). */
  hasAdds: boolean;
  /** Each profile's join (add) or leave (remove), in the order the profiles came. */
  parts: IngestPart[];
  /** Identities of types that are not mParticle's, dropped before hashing (the rest are counted by ingest). */
  rejections: Record<string, number>;
}

/** The identities Tailor forwards; other mParticle types are ignored, non-types counted (schema.ts). */
function sourceIdentities(list: FirehoseIdentity[] | undefined, which: IdentityList, out: SourceIdentity[]): number {
  let unknown = 0;
  for (const id of list ?? []) {
    const kind = identityKindOf(which, id.type);
    if (kind === 'unknown') unknown += 1;
    else if (kind !== 'ignored') out.push({ kind, value: id.value ?? '', encoding: id.encoding ?? 'raw' });
  }
  return unknown;
}

function entriesOf(
  p: FirehoseProfile,
): { audienceId: string; name: string | undefined; settings: Settings | undefined; action: 'add' | 'delete' | 'attribute_update' }[] {
  const entry = (
    a: { audience_id: string; audience_name?: string | undefined; audience_subscription_settings?: Settings | undefined },
    action: 'add' | 'delete' | 'attribute_update',
  ) => ({
    audienceId: a.audience_id,
    name: a.audience_name,
    settings: a.audience_subscription_settings,
    action,
  });
  return [
    ...(p.audiences ?? []).map((a) => entry(a, a.action)),
    ...(p.added_audiences ?? []).map((a) => entry(a, 'add')),
    ...(p.removed_audiences ?? []).map((a) => entry(a, 'delete')),
  ];
}

/**
 * Pure: a validated request → per-audience joins and leaves, in the order the profiles came. The
 * member is keyed by its `mpid` string as sent, or, without one, each identity is a member of its
 * own (membership/changes.ts); a leave takes out what the member contributed, whatever it names.
 */
export function planMembership(msg: MembershipRequest): AudiencePlan[] {
  const plans = new Map<string, AudiencePlan>();
  (msg.user_profiles ?? []).forEach((p, index) => {
    const entries = entriesOf(p).filter((e) => e.action !== 'attribute_update'); // attributes: acknowledged, not forwarded
    if (entries.length === 0) return;
    const member: SourceMember = { key: p.mpid === undefined ? null : { kind: 'mpid', value: p.mpid }, identities: [] };
    const unknownTypes =
      sourceIdentities(p.user_identities, 'user_identities', member.identities) + sourceIdentities(p.device_identities, 'device_identities', member.identities);
    for (const e of entries) {
      let plan = plans.get(e.audienceId);
      if (!plan) {
        plan = { audienceId: e.audienceId, name: null, toggles: togglesOf(e.settings), hasAdds: false, parts: [], rejections: {} };
        plans.set(e.audienceId, plan);
      }
      const name = e.name ?? ''; // cleaned by the schema (core/text.ts cleanName)
      if (plan.name === null && name) plan.name = name;
      if (e.action === 'add') plan.hasAdds = true;
      plan.parts.push({ action: e.action === 'add' ? 'add' : 'remove', members: [member], firstIndex: index });
      if (unknownTypes > 0) plan.rejections.unknown_identity_type = (plan.rejections.unknown_identity_type ?? 0) + unknownTypes;
    }
  });
  return [...plans.values()];
}

/**
 * The configuration to write to, or why the request must be answered `suspend_subscription: true`:
 * only when no configuration has that Account ID. A configuration that needs re-authorization is
 * written to as usual: its downstream audiences are paused and its changes wait in the outbox until
 * someone logs in with X again (mParticle never sends again a change answered 200, so suspending
 * would lose it).
 */
export function usable(
  configuration: Configuration | null,
  accountId: string,
): { ok: true; configuration: Configuration } | { ok: false; reason: SuspendReason; message: string } {
  if (!configuration) {
    return {
      ok: false,
      reason: 'unknown_account',
      message: `Tailor has no configuration for X ad account ${accountId}; add it, then Resume the connection in mParticle`,
    };
  }
  return { ok: true, configuration };
}

export async function handleMembership(s: Services, status: FirehoseStatus, msg: MembershipRequest): Promise<Record<string, unknown>> {
  const respond = (suspend: boolean) => ({ ...responseEnvelope('audience_membership_change_response', msg), suspend_subscription: suspend });
  const plans = planMembership(msg);
  const accountId = msg.account.account_settings.accountId;
  const check = usable(await s.store.getConfigurationByAccount(accountId), accountId);
  if (!check.ok) {
    // Nothing is stored: mParticle stops sending until the user fixes this and clicks Resume.
    const suspended = status.suspended(accountId, check.reason, check.message, s.now());
    if (suspended > 0)
      s.log.warn(
        { source: 'firehose', accountId, reason: check.reason, suspended },
        `firehose membership change answered suspend_subscription: ${check.message}`,
      );
    return respond(true);
  }
  const configuration = check.configuration;
  const sender = firehoseSender(msg.account, configuration);

  const now = s.now();
  let foreign = 0;
  for (const plan of plans) {
    const access = await s.store.firehoseAccess(plan.audienceId, sender);
    if (access === 'foreign') {
      foreign += 1;
      continue;
    }
    if (access === 'unknown') {
      // Nothing to remove from an audience Tailor has never held; only a join creates it.
      if (!plan.hasAdds) continue;
      // The subscription message was missed (or came before Tailor knew the account): connect
      // from what this message says. Later subscription updates own the name and the toggles.
      // Audited with the writes themselves (actor firehose).
      const put = await s.store.putAudience(plan.audienceId, plan.name ?? `mParticle audience ${plan.audienceId}`, now, 'firehose', {
        kind: 'firehose',
        ...sender,
      });
      if (put.foreign) {
        foreign += 1; // created through the REST API a moment ago
        continue;
      }
      await s.store.putConnection(plan.audienceId, configuration.id, plan.toggles, now, 'firehose');
      s.log.info(
        { source: 'firehose', audience: plan.audienceId, configuration: configuration.id },
        'firehose membership change for an unknown audience: audience created and connected',
      );
    } else if (plan.hasAdds && !(await s.store.listConnections(plan.audienceId)).some((c) => c.configurationId === configuration.id)) {
      await s.store.putConnection(plan.audienceId, configuration.id, plan.toggles, now, 'firehose');
      s.log.info(
        { source: 'firehose', audience: plan.audienceId, configuration: configuration.id },
        'firehose membership change for an unconnected audience: connection added',
      );
    }
    const result = await ingest(s.store, s.memberKeys, {
      audienceId: plan.audienceId,
      parts: plan.parts,
      now,
      rejections: plan.rejections,
      phoneRegion: s.phoneRegion,
    });
    // The Firehose has always counted ledger changes (a profile without an mpid makes one per identity), REST and import members.
    countIngest('firehose', result.changes, result.counts);
  }
  if (foreign > 0) foreignAudience(s, 'membership', foreign);
  if (plans.length > 0) s.notify(); // workers send; no X call on this path
  return respond(false);
}
