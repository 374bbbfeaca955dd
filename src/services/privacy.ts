/**
 * Suppressions and erasures as REST, the Firehose and the UI share them (docs/privacy.md).
 */
import { z } from 'zod';
import { Refusal } from '../core/errors.ts';
import type { SourceIdentity } from '../membership/changes.ts';
import { erasureRequestKey, hashIdentities } from '../membership/privacy.ts';
import type { AuditActor, Erasure } from '../store/port.ts';
import type { Services } from './deps.ts';

/** Past this age an unfinished erasure or suppression is flagged: X's 24 hours are close (docs/privacy.md). */
export const PRIVACY_WARN_AFTER_MS = 20 * 3_600_000;
/** X's deadline (Ads API Agreement, Exhibit B 1.2). */
export const PRIVACY_DEADLINE_MS = 24 * 3_600_000;

export const erasureViewSchema = z.object({
  id: z.string(),
  state: z.enum(['pending', 'done']).describe('`done` once X acknowledged the removal of every identity found'),
  source: z.enum(['api', 'firehose']),
  received_at: z.iso.datetime(),
  completed_at: z.iso.datetime().nullable(),
  members_erased: z.number().int().describe('Members removed, counted once per audience'),
  x_audiences: z.number().int().describe('X audiences that held, or were about to receive, one of the identities found'),
});
export type ErasureView = z.infer<typeof erasureViewSchema>;

export const privacyViewSchema = z.object({
  erasures_pending: z.number().int(),
  oldest_pending_erasure_age_seconds: z.number().nullable(),
  suppressions_pending: z.number().int().describe('Suppressed identities some X audience may still hold'),
  oldest_pending_suppression_age_seconds: z.number().nullable(),
  warn_after_seconds: z.number().int().describe('Age past which the UI warns (20 hours; X allows 24)'),
  waiting_on_reauth: z
    .array(z.object({ configuration_id: z.string(), name: z.string() }))
    .describe('Configurations that need re-authorization and hold removals of suppressed identities back: the clock runs on'),
  erasures: z.array(erasureViewSchema).describe('Pending erasures oldest first, then the most recent done ones'),
});
export type PrivacyView = z.infer<typeof privacyViewSchema>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function erasureView(e: Erasure): ErasureView {
  return {
    id: e.id,
    state: e.state,
    source: e.source,
    received_at: new Date(e.receivedAt).toISOString(),
    completed_at: iso(e.completedAt),
    members_erased: e.membersErased,
    x_audiences: e.xAudiences,
  };
}

export interface ErasureRequest {
  /** A REST or import user id: its member key is erased in every audience. */
  userId?: string;
  identities: SourceIdentity[];
}

/**
 * Records an erasure and does the ledger's part of it in one transaction, with its audit entry
 * (once per erasure: its id and counts, and how many identities could not be used; never whom).
 * `requestKey` is the Firehose's (by subject_request_id); the REST API's is derived from the
 * request itself.
 */
export async function requestErasure(
  s: Services,
  req: ErasureRequest,
  source: 'api' | 'firehose',
  actor: AuditActor,
  requestKey?: string,
): Promise<{ erasure: Erasure; created: boolean }> {
  const hashed = hashIdentities([{ index: 0, identities: req.identities }], { phoneRegion: s.phoneRegion });
  const memberKeys = req.userId === undefined ? [] : [s.memberKeys.of('user_id', req.userId)];
  if (memberKeys.length === 0 && hashed.identities.length === 0) {
    if (source === 'api') {
      const why = hashed.rejected.map((r) => `${r.field}: ${r.message}`).join('; ');
      throw new Refusal('invalid', `Give user_id or at least one usable identity${why ? ` (${why})` : ''}`);
    }
  }
  const key = requestKey ?? erasureRequestKey(memberKeys, hashed.identities);
  const result = await s.store.erase({ requestKey: key, source, memberKeys, identities: hashed.identities }, s.now(), {
    actor,
    details: { unusable_identities: hashed.rejected.length },
  });
  if (result.created) {
    s.notify();
    s.log.info(
      { erasure: result.erasure.id, source, members: result.erasure.membersErased, xAudiences: result.erasure.xAudiences },
      'erasure recorded: members removed, their identities suppressed; X follows',
    );
    await warnIfWaiting(s);
  }
  return result;
}

/** The log line the 24-hour clock needs when a paused configuration holds removals back. */
export async function warnIfWaiting(s: Services): Promise<void> {
  const snap = await s.store.privacySnapshot();
  if (snap.reauthBlocking.length === 0 || snap.pendingSuppressions === 0) return;
  s.log.warn(
    { configurations: snap.reauthBlocking.map((c) => c.configurationId), erasuresPending: snap.pendingErasures, suppressionsPending: snap.pendingSuppressions },
    `erasures and opt-outs are waiting on ${snap.reauthBlocking.map((c) => `configuration "${c.name}"`).join(', ')}, which needs re-authorization; X's 24 hours keep running`,
  );
}

export async function privacyView(s: Services, limit = 50): Promise<PrivacyView> {
  const now = s.now();
  const snap = await s.store.privacySnapshot();
  const age = (at: number | null): number | null => (at === null ? null : Math.max(0, (now - at) / 1000));
  return {
    erasures_pending: snap.pendingErasures,
    oldest_pending_erasure_age_seconds: age(snap.oldestPendingErasureAt),
    suppressions_pending: snap.pendingSuppressions,
    oldest_pending_suppression_age_seconds: age(snap.oldestPendingSuppressionAt),
    warn_after_seconds: PRIVACY_WARN_AFTER_MS / 1000,
    waiting_on_reauth: snap.reauthBlocking.map((c) => ({ configuration_id: c.configurationId, name: c.name })),
    erasures: (await s.store.listErasures(limit)).map(erasureView),
  };
}
